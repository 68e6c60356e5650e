//! Architecture checks that read `src/` as text, in the style of
//! rust-analyzer's `xtask/src/tidy.rs` (issue 16; the structure review, §2.3 and §2.6).
//!
//! This file uses nothing from the crate and no dependency: it only reads
//! files, so it keeps working (and fails in milliseconds) while the crate is
//! being moved around. It checks:
//!
//! * **Layers.** `src/lib.rs` carries the table of which top-level module may
//!   import which, as the first ` ```text ` block after a line `//! ## Layers`:
//!
//!   ```text
//!   //! ## Layers
//!   //!
//!   //! ```text
//!   //! # module    may import (`-`: nothing of ours)
//!   //! domain      -
//!   //! cm          domain, platform
//!   //! ```
//!   ```
//!
//!   After the leading `//!` and spaces, each line is `<module>  <allowed>`:
//!   a top-level module (a folder `src/<module>/` holding `.rs` files, or a
//!   file `src/<module>.rs`), whitespace, then a comma-separated list of the
//!   other top-level modules it may import, or `-`. Blank lines and lines
//!   starting with `#` are comments. A module may always import itself. The
//!   table must list exactly the top-level modules that exist; `lib.rs`,
//!   `main.rs` (and a `src/bin/` folder, which holds binaries) are not
//!   modules. A file's imports are every `crate::<name>` (also the first
//!   level of a `crate::{a::x, b::y}` group, and `$crate::`) and every
//!   `super::` path that climbs to the crate root (counting `src/x/mod.rs` at
//!   the level of `x`, and inline `mod name { .. }` blocks as one level
//!   each). Names that are not top-level modules (`crate::VERSION`) are not
//!   imports of a module. Comments, doc comments, strings and char literals
//!   are skipped. `#[cfg(test)]` code counts like any other code.
//!   `cargo test --test architecture -- --ignored --nocapture print_current_graph`
//!   prints the graph as it is today, in the table's format.
//! * **Size.** A file over `MAX_LINES` lines says why within its first
//!   `SIZE_NOTE_WITHIN` lines, with one line `//! Size: <reason>`.
//! * **`Result<_, String>` ratchet.** The number of `Result<.., String>`
//!   types in `src/` outside `#[cfg(test)] mod <name> { .. }` blocks must equal
//!   `RESULT_STRING_LIMIT`: it may only go down. Each `Result` is judged on its
//!   own top-level arguments, so `Result<Vec<Result<u8, String>>, Error>`
//!   counts once (the inner one), and `Result<String, Error>` does not count.
//!   Any module under `#[cfg(test)]` is skipped, not only one named `tests`
//!   (`src/cli/mod.rs` has `mod emulator_args_tests`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// `Result<_, String>` types in `src/` outside test modules. Lower it when
/// you remove some; never raise it.
const RESULT_STRING_LIMIT: usize = 7;

/// A file longer than this must say why (`//! Size: <reason>`).
const MAX_LINES: usize = 800;

/// The `//! Size:` line must be within this many first lines.
const SIZE_NOTE_WITHIN: usize = 5;

// ---------------------------------------------------------------------------
// The checks.

#[test]
fn layer_table_lists_every_top_level_module() {
    let tree = Tree::read();
    tree.layer_table();
}

#[test]
fn modules_import_only_what_the_layer_table_allows() {
    let tree = Tree::read();
    let table = tree.layer_table();
    let violations: Vec<String> = tree
        .layered_files()
        .flat_map(|file| {
            let mut found = layer_violations(&file.rel, &file.text, &table);
            if !braces_balance(&tokenize(&file.text)) {
                // Rather than miss imports quietly after a lexing mistake.
                found.push(format!(
                    "src/{}: the braces do not balance for this checker's lexer; if the file \
                     compiles, fix the lexer in tests/architecture.rs",
                    file.rel
                ));
            }
            found
        })
        .collect();
    assert!(
        violations.is_empty(),
        "{} import(s) break the layer table in src/lib.rs (`//! ## Layers`). \
         Move the code to a layer that may use it, or, if the table is wrong, change \
         the table in the same commit:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

#[test]
fn long_files_say_why() {
    let tree = Tree::read();
    let problems: Vec<String> = tree
        .files
        .iter()
        .filter_map(|file| size_problem(&file.rel, &file.text))
        .collect();
    assert!(
        problems.is_empty(),
        "{} file(s) in src/ are longer than {MAX_LINES} lines without a line \
         `//! Size: <reason>` within their first {SIZE_NOTE_WITHIN} lines. Split the file \
         along a seam, or say why it is one piece:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn result_string_only_goes_down() {
    let tree = Tree::read();
    let sites: Vec<String> = tree
        .files
        .iter()
        .flat_map(|file| {
            result_string_lines(&file.text)
                .into_iter()
                .map(move |line| format!("src/{}:{line}", file.rel))
        })
        .collect();
    let count = sites.len();
    assert!(
        count <= RESULT_STRING_LIMIT,
        "src/ has {count} `Result<_, String>` types outside test modules, more than \
         RESULT_STRING_LIMIT = {RESULT_STRING_LIMIT} in tests/architecture.rs. New code \
         returns a typed error (thiserror) instead; when you remove some, lower the limit. \
         All of them:\n{}",
        sites.join("\n")
    );
    assert!(
        count >= RESULT_STRING_LIMIT,
        "src/ has {count} `Result<_, String>` types outside test modules, fewer than \
         RESULT_STRING_LIMIT = {RESULT_STRING_LIMIT}. Well done: lower \
         RESULT_STRING_LIMIT in tests/architecture.rs to {count}, so the count only goes down."
    );
}

/// Prints today's import graph in the layer table's format, ready to paste
/// into `src/lib.rs`, then where each edge comes from.
#[test]
#[ignore = "prints the current import graph; run with --ignored --nocapture"]
fn print_current_graph() {
    let tree = Tree::read();
    let modules = tree.top_level_modules();
    let mut graph: BTreeMap<&str, BTreeMap<String, Vec<String>>> = modules
        .iter()
        .map(|module| (module.as_str(), BTreeMap::new()))
        .collect();
    let mut not_modules: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in tree.layered_files() {
        let from = top_level_module(&file.rel);
        for reference in root_references(&file.rel, &file.text) {
            let site = format!("src/{}:{}", file.rel, reference.line);
            if !modules.contains(&reference.name) {
                not_modules.entry(reference.name).or_default().push(site);
            } else if reference.name != from {
                let edges = graph
                    .get_mut(from.as_str())
                    .expect("every file has a module");
                edges.entry(reference.name).or_default().push(site);
            }
        }
    }
    let width = modules.iter().map(String::len).max().unwrap_or(0) + 2;
    println!("//! ## Layers");
    println!("//!");
    println!("//! Which top-level module may import which (`-`: nothing of ours); a module");
    println!("//! may always import itself. Checked by tests/architecture.rs.");
    println!("//!");
    println!("//! ```text");
    for (module, edges) in &graph {
        let allowed = if edges.is_empty() {
            "-".to_string()
        } else {
            edges.keys().cloned().collect::<Vec<_>>().join(", ")
        };
        println!("//! {module:width$}{allowed}");
    }
    println!("//! ```");
    println!();
    println!("# Each edge: the number of references, then the first few.");
    for (module, edges) in &graph {
        for (target, sites) in edges {
            let first: Vec<&str> = sites.iter().take(3).map(String::as_str).collect();
            println!(
                "{module} -> {target}  ({}: {})",
                sites.len(),
                first.join(", ")
            );
        }
    }
    if !not_modules.is_empty() {
        println!();
        println!("# Names reached through crate:: or super:: that are not top-level modules:");
        for (name, sites) in &not_modules {
            println!("{name}  ({}: {})", sites.len(), sites.join(", "));
        }
    }
}

// ---------------------------------------------------------------------------
// Reading the tree.

struct SourceFile {
    /// The path under `src/`, with `/` separators: `worker/effects.rs`.
    rel: String,
    text: String,
}

struct Tree {
    root: PathBuf,
    files: Vec<SourceFile>,
}

impl Tree {
    fn read() -> Tree {
        let root = PathBuf::from(option_env!("CARGO_MANIFEST_DIR").unwrap_or("."));
        let src = root.join("src");
        let mut paths = Vec::new();
        collect_rs_files(&src, &mut paths);
        assert!(!paths.is_empty(), "no .rs files under {}", src.display());
        let mut files: Vec<SourceFile> = paths
            .into_iter()
            .map(|path| {
                let text = fs::read_to_string(&path)
                    .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
                let rel = path.strip_prefix(&src).expect("under src/");
                let rel: Vec<String> = rel
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                SourceFile {
                    rel: rel.join("/"),
                    text,
                }
            })
            .collect();
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        Tree { root, files }
    }

    /// The files that belong to a top-level module (not `lib.rs`, `main.rs`
    /// or `src/bin/`).
    fn layered_files(&self) -> impl Iterator<Item = &SourceFile> {
        self.files
            .iter()
            .filter(|file| is_module_name(&top_level_module(&file.rel)))
    }

    fn top_level_modules(&self) -> BTreeSet<String> {
        self.layered_files()
            .map(|file| top_level_module(&file.rel))
            .collect()
    }

    /// The layer table of `src/lib.rs`, checked against the modules in `src/`.
    /// Panics with every problem found.
    fn layer_table(&self) -> BTreeMap<String, Vec<String>> {
        let lib = self.root.join("src/lib.rs");
        let text = fs::read_to_string(&lib)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", lib.display()));
        let hint = "Print today's graph in the table's format with `cargo test --test \
                    architecture -- --ignored --nocapture print_current_graph`.";
        let table = parse_layer_table(&text).unwrap_or_else(|problem| {
            panic!("src/lib.rs: the layer table cannot be read: {problem}\n{hint}")
        });
        let problems = table_problems(&table, &self.top_level_modules());
        assert!(
            problems.is_empty(),
            "src/lib.rs: the layer table (`//! ## Layers`) does not match src/:\n{}\n{hint}",
            problems.join("\n")
        );
        table
    }
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `worker/effects.rs` → `worker`; `config.rs` → `config`.
fn top_level_module(rel: &str) -> String {
    let first = rel.split('/').next().unwrap_or(rel);
    first.strip_suffix(".rs").unwrap_or(first).to_string()
}

/// Whether a first path component under `src/` is a module of the library.
fn is_module_name(top: &str) -> bool {
    !matches!(top, "lib" | "main" | "bin")
}

/// The module path of a file: `worker/effects.rs` → `[worker, effects]`,
/// `cm/auth/mod.rs` → `[cm, auth]`, `lib.rs` → `[]`.
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if let Some(last) = parts.last_mut() {
        *last = last.strip_suffix(".rs").unwrap_or(last).to_string();
    }
    if matches!(parts.as_slice(), [name] if name == "lib" || name == "main") {
        return Vec::new();
    }
    if parts.len() > 1 && parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

// ---------------------------------------------------------------------------
// The layer table.

/// Reads the table: module → the other modules it may import.
fn parse_layer_table(lib_rs: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut lines = lib_rs.lines().enumerate();
    if !lines
        .by_ref()
        .any(|(_, line)| doc(line) == Some("## Layers"))
    {
        return Err("there is no line `//! ## Layers`".to_string());
    }
    if !lines.by_ref().any(|(_, line)| doc(line) == Some("```text")) {
        return Err("no ```text block follows `//! ## Layers`".to_string());
    }
    let mut table: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (index, line) in lines {
        let number = index + 1;
        let Some(content) = doc(line) else {
            return Err(format!(
                "line {number} ends the ```text block without its closing ```"
            ));
        };
        if content == "```" {
            if table.is_empty() {
                return Err("the ```text block after `//! ## Layers` has no rows".to_string());
            }
            return Ok(table);
        }
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let (module, allowed) = content
            .split_once(char::is_whitespace)
            .map(|(module, allowed)| (module, allowed.trim()))
            .ok_or_else(|| {
                format!(
                    "line {number}: `{content}` needs `<module>  <allowed, ...>` or `<module>  -`"
                )
            })?;
        let allowed: Vec<String> = if allowed == "-" {
            Vec::new()
        } else {
            allowed
                .split(',')
                .map(|name| name.trim().to_string())
                .collect()
        };
        if allowed
            .iter()
            .any(|name| name.is_empty() || name.contains(char::is_whitespace))
        {
            return Err(format!(
                "line {number}: `{content}`: separate the allowed modules with commas"
            ));
        }
        if table.insert(module.to_string(), allowed).is_some() {
            return Err(format!("line {number}: `{module}` is listed twice"));
        }
    }
    Err("the ```text block after `//! ## Layers` is not closed".to_string())
}

/// The text of a `//!` line, trimmed; `None` for any other line.
fn doc(line: &str) -> Option<&str> {
    line.trim_start().strip_prefix("//!").map(str::trim)
}

/// What does not match between the table and the modules in `src/`.
fn table_problems(
    table: &BTreeMap<String, Vec<String>>,
    modules: &BTreeSet<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for module in modules {
        if !table.contains_key(module) {
            problems.push(format!(
                "`{module}` is a module in src/ but the table does not list it"
            ));
        }
    }
    for (module, allowed) in table {
        if !modules.contains(module) {
            problems.push(format!(
                "the table lists `{module}`, but there is no src/{module}/ or src/{module}.rs"
            ));
        }
        for name in allowed.iter().filter(|name| !modules.contains(*name)) {
            problems.push(format!(
                "`{module}` may import `{name}`, which is not a module in src/"
            ));
        }
    }
    problems
}

/// Every reference in one file (path under `src/`) to a module that its
/// top-level module may not import, as `src/path.rs:LINE: ...`.
fn layer_violations(rel: &str, source: &str, table: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let from = top_level_module(rel);
    let Some(allowed) = table.get(&from) else {
        return vec![format!("src/{rel}:1: `{from}` is not in the layer table")];
    };
    let allowed_text = if allowed.is_empty() {
        "-".to_string()
    } else {
        allowed.join(", ")
    };
    root_references(rel, source)
        .into_iter()
        .filter(|reference| {
            reference.name != from
                && table.contains_key(&reference.name)
                && !allowed.contains(&reference.name)
        })
        .map(|reference| {
            format!(
                "src/{rel}:{}: {from} may not import {} (allowed: {allowed_text})",
                reference.line, reference.name
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------
// A small Rust lexer: identifiers, punctuation and literals, with comments
// dropped and strings and chars reduced to one `Literal` token each.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Punct,
    /// A string, char, number or lifetime: never part of a path.
    Literal,
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    text: String,
    line: usize,
    /// Char offsets, to tell `::` and `->` from `: :` and `- >`.
    start: usize,
    end: usize,
}

impl Token {
    fn is_ident(&self, word: &str) -> bool {
        self.kind == Kind::Ident && self.text == word
    }
    fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct && self.text.starts_with(c)
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn tokenize(source: &str) -> Vec<Token> {
    let s: Vec<char> = source.chars().collect();
    let at = |i: usize| s.get(i).copied();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < s.len() {
        let (start, start_line, c) = (i, line, s[i]);
        let kind = if c == '\n' {
            line += 1;
            i += 1;
            continue;
        } else if c.is_whitespace() {
            i += 1;
            continue;
        } else if c == '/' && at(i + 1) == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
            continue;
        } else if c == '/' && at(i + 1) == Some('*') {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(s[i] == '\n');
                    i += 1;
                }
            }
            continue;
        } else if c == '"' {
            i = skip_string(&s, i + 1, &mut line);
            Kind::Literal
        } else if c == '\'' {
            i = skip_char_or_lifetime(&s, i);
            Kind::Literal
        } else if is_ident_start(c) {
            while at(i).is_some_and(is_ident_continue) {
                i += 1;
            }
            let word: String = s[start..i].iter().collect();
            let hashes = s[i..].iter().take_while(|&&c| c == '#').count();
            match (word.as_str(), at(i)) {
                ("b" | "c", Some('"')) => {
                    i = skip_string(&s, i + 1, &mut line);
                    Kind::Literal
                }
                ("b", Some('\'')) => {
                    i = skip_char_or_lifetime(&s, i);
                    Kind::Literal
                }
                ("r" | "br" | "cr", Some('"' | '#')) if at(i + hashes) == Some('"') => {
                    i = skip_raw_string(&s, i + hashes + 1, hashes, &mut line);
                    Kind::Literal
                }
                ("r", Some('#')) if hashes == 1 && at(i + 1).is_some_and(is_ident_start) => {
                    // A raw identifier, `r#type`: keep the name alone.
                    i += 1;
                    let name_start = i;
                    while at(i).is_some_and(is_ident_continue) {
                        i += 1;
                    }
                    tokens.push(Token {
                        kind: Kind::Ident,
                        text: s[name_start..i].iter().collect(),
                        line: start_line,
                        start,
                        end: i,
                    });
                    continue;
                }
                _ => Kind::Ident,
            }
        } else if c.is_ascii_digit() {
            while at(i).is_some_and(is_ident_continue) {
                i += 1;
            }
            Kind::Literal
        } else {
            i += 1;
            Kind::Punct
        };
        tokens.push(Token {
            kind,
            text: s[start..i].iter().collect(),
            line: start_line,
            start,
            end: i,
        });
    }
    tokens
}

/// From just after an opening `"`, past the closing one.
fn skip_string(s: &[char], mut i: usize, line: &mut usize) -> usize {
    while i < s.len() {
        match s[i] {
            '\\' => {
                *line += usize::from(s.get(i + 1) == Some(&'\n'));
                i += 2;
            }
            '"' => return i + 1,
            c => {
                *line += usize::from(c == '\n');
                i += 1;
            }
        }
    }
    s.len()
}

/// From just after the opening `"` of a raw string with `hashes` `#`s.
fn skip_raw_string(s: &[char], mut i: usize, hashes: usize, line: &mut usize) -> usize {
    while i < s.len() {
        if s[i] == '"' && (1..=hashes).all(|k| s.get(i + k) == Some(&'#')) {
            return i + 1 + hashes;
        }
        *line += usize::from(s[i] == '\n');
        i += 1;
    }
    s.len()
}

/// From a `'`: past a char literal (`'{'`, `'\''`, `'\u{7b}'`) or a
/// lifetime or label (`'a`, `'static`).
fn skip_char_or_lifetime(s: &[char], i: usize) -> usize {
    if s.get(i + 1) == Some(&'\\') {
        let mut j = i + 3;
        while j < s.len() && s[j] != '\'' && s[j] != '\n' {
            j += 1;
        }
        return j + 1;
    }
    if s.get(i + 2) == Some(&'\'') {
        return i + 3;
    }
    let mut j = i + 1;
    while s.get(j).copied().is_some_and(is_ident_continue) {
        j += 1;
    }
    j
}

/// Whether every `{` has its `}`: a check that the lexer kept in step.
fn braces_balance(tokens: &[Token]) -> bool {
    let mut depth = 0isize;
    for token in tokens {
        depth += isize::from(token.is_punct('{')) - isize::from(token.is_punct('}'));
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// Whether `tokens[i..]` starts with `::` (two adjacent colons).
fn path_sep(tokens: &[Token], i: usize) -> bool {
    match (tokens.get(i), tokens.get(i + 1)) {
        (Some(a), Some(b)) => a.is_punct(':') && b.is_punct(':') && a.end == b.start,
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Imports.

/// A name that a path reaches at the crate root: `crate::cm::client` names
/// `cm`.
#[derive(Debug, PartialEq, Eq)]
struct Reference {
    line: usize,
    name: String,
}

/// Every name a file (path under `src/`) reaches at the crate root, through
/// `crate::`, `$crate::` or enough `super::`s. Includes names that are not
/// modules (`crate::VERSION`); the caller filters.
fn root_references(rel: &str, source: &str) -> Vec<Reference> {
    let tokens = tokenize(source);
    let file_depth = module_path(rel).len();
    let mut references = Vec::new();
    let mut braces = 0usize;
    // The brace depth inside each enclosing inline `mod name { .. }`.
    let mut inline_mods: Vec<usize> = Vec::new();
    let mut mod_opening = None;
    for i in 0..tokens.len() {
        let token = &tokens[i];
        if token.is_punct('{') {
            braces += 1;
            if mod_opening == Some(i) {
                inline_mods.push(braces);
            }
        } else if token.is_punct('}') {
            if inline_mods.last() == Some(&braces) {
                inline_mods.pop();
            }
            braces = braces.saturating_sub(1);
        } else if token.is_ident("mod")
            && tokens.get(i + 1).is_some_and(|t| t.kind == Kind::Ident)
            && tokens.get(i + 2).is_some_and(|t| t.is_punct('{'))
        {
            mod_opening = Some(i + 2);
        }
        let starts_path = i < 2 || !path_sep(&tokens, i - 2);
        if token.is_ident("crate") && starts_path && path_sep(&tokens, i + 1) {
            root_names(&tokens, i + 3, &mut references);
        } else if token.is_ident("super") && (starts_path || after_leading_self(&tokens, i)) {
            // Count `super::` steps; a final `super` without `::` names the
            // ancestor itself, which is not an import of another module.
            let mut steps = 0;
            let mut j = i;
            while tokens.get(j).is_some_and(|t| t.is_ident("super")) && path_sep(&tokens, j + 1) {
                steps += 1;
                j += 3;
            }
            let at_root = steps == file_depth + inline_mods.len();
            if at_root && !tokens.get(j).is_some_and(|t| t.is_ident("super")) {
                root_names(&tokens, j, &mut references);
            }
        }
    }
    references
}

/// `self::super::x`: the `super` at `i` follows a `self::` that starts the path.
fn after_leading_self(tokens: &[Token], i: usize) -> bool {
    i >= 3
        && path_sep(tokens, i - 2)
        && tokens[i - 3].is_ident("self")
        && (i < 5 || !path_sep(tokens, i - 5))
}

/// The names right after a path's root: `x` in `crate::x::..`, or `a` and `b`
/// in `crate::{a::y, b, self}`.
fn root_names(tokens: &[Token], i: usize, out: &mut Vec<Reference>) {
    let Some(first) = tokens.get(i) else { return };
    if first.kind == Kind::Ident {
        out.push(Reference {
            line: first.line,
            name: first.text.clone(),
        });
        return;
    }
    if !first.is_punct('{') {
        return;
    }
    let mut depth = 0;
    let mut expect_name = false;
    for token in &tokens[i..] {
        if token.is_punct('{') {
            depth += 1;
            expect_name = depth == 1;
        } else if token.is_punct('}') {
            depth -= 1;
            if depth == 0 {
                return;
            }
        } else if depth == 1 && token.is_punct(',') {
            expect_name = true;
        } else if expect_name {
            if token.kind == Kind::Ident && token.text != "self" {
                out.push(Reference {
                    line: token.line,
                    name: token.text.clone(),
                });
            }
            expect_name = false;
        }
    }
}

// ---------------------------------------------------------------------------
// Size.

fn size_problem(rel: &str, text: &str) -> Option<String> {
    let lines = text.lines().count();
    let explained = text.lines().take(SIZE_NOTE_WITHIN).any(|line| {
        line.trim()
            .strip_prefix("//! Size:")
            .is_some_and(|reason| !reason.trim().is_empty())
    });
    (lines > MAX_LINES && !explained).then(|| format!("src/{rel}: {lines} lines"))
}

// ---------------------------------------------------------------------------
// `Result<_, String>`.

/// The lines of every `Result<A, String>` (two top-level type arguments, the
/// second exactly `String`) outside `#[cfg(test)] mod <name> { .. }` blocks.
/// Each `Result` is judged alone: `Result<Vec<Result<u8, String>>, E>` gives
/// the inner one's line once.
fn result_string_lines(source: &str) -> Vec<usize> {
    let tokens = tokenize(source);
    let mut lines = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some(end) = cfg_test_module_end(&tokens, i) {
            i = end;
            continue;
        }
        if tokens[i].is_ident("Result") && second_argument_is_string(&tokens, i + 1) {
            lines.push(tokens[i].line);
        }
        i += 1;
    }
    lines
}

/// If `tokens[i..]` starts with `#[cfg(test)]`, maybe more attributes and a
/// visibility, then `mod name {`: the index just past its closing `}`.
fn cfg_test_module_end(tokens: &[Token], i: usize) -> Option<usize> {
    let shape = ["#", "[", "cfg", "(", "test", ")", "]"];
    let matches = shape
        .iter()
        .enumerate()
        .all(|(k, text)| tokens.get(i + k).is_some_and(|t| t.text == *text));
    if !matches {
        return None;
    }
    let mut j = i + shape.len();
    loop {
        if tokens.get(j)?.is_punct('#') && tokens.get(j + 1)?.is_punct('[') {
            j = matching_close(tokens, j + 1, '[', ']')? + 1;
        } else if tokens.get(j)?.is_ident("pub") {
            j += 1;
            if tokens.get(j)?.is_punct('(') {
                j = matching_close(tokens, j, '(', ')')? + 1;
            }
        } else {
            break;
        }
    }
    let is_module = tokens.get(j)?.is_ident("mod")
        && tokens.get(j + 1)?.kind == Kind::Ident
        && tokens.get(j + 2)?.is_punct('{');
    if !is_module {
        return None;
    }
    // An unclosed module runs to the end of the file.
    Some(matching_close(tokens, j + 2, '{', '}').map_or(tokens.len(), |close| close + 1))
}

/// The index of the bracket closing the one at `open`.
fn matching_close(tokens: &[Token], open: usize, opening: char, closing: char) -> Option<usize> {
    let mut depth = 0usize;
    for (k, token) in tokens.iter().enumerate().skip(open) {
        if token.is_punct(opening) {
            depth += 1;
        } else if token.is_punct(closing) {
            depth -= 1;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// Whether `tokens[i..]` is `<A, String>` or `::<A, String>`.
fn second_argument_is_string(tokens: &[Token], mut i: usize) -> bool {
    if path_sep(tokens, i) {
        i += 2;
    }
    if !tokens.get(i).is_some_and(|t| t.is_punct('<')) {
        return false;
    }
    let (mut angles, mut brackets) = (1usize, 0usize);
    let mut arguments: Vec<Vec<&str>> = vec![Vec::new()];
    for (k, token) in tokens.iter().enumerate().skip(i + 1) {
        let arrow = token.is_punct('>')
            && k > 0
            && tokens[k - 1].is_punct('-')
            && tokens[k - 1].end == token.start;
        if token.is_punct(';') || token.is_punct('{') || token.is_punct('}') {
            return false;
        } else if token.is_punct('<') {
            angles += 1;
        } else if token.is_punct('>') && !arrow {
            angles -= 1;
            if angles == 0 {
                return arguments.len() == 2 && arguments[1] == ["String"];
            }
        } else if token.is_punct('(') || token.is_punct('[') {
            brackets += 1;
        } else if token.is_punct(')') || token.is_punct(']') {
            if brackets == 0 {
                return false;
            }
            brackets -= 1;
        } else if token.is_punct(',') && angles == 1 && brackets == 0 {
            arguments.push(Vec::new());
            continue;
        }
        if angles == 1 && brackets == 0 && !token.is_punct('<') {
            arguments
                .last_mut()
                .expect("one argument at least")
                .push(&token.text);
        }
    }
    false
}

// ---------------------------------------------------------------------------
// The checker's own tests: each check can fail.

fn table(rows: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    rows.iter()
        .map(|(module, allowed)| {
            (
                module.to_string(),
                allowed.iter().map(ToString::to_string).collect(),
            )
        })
        .collect()
}

fn names(rel: &str, source: &str) -> Vec<String> {
    root_references(rel, source)
        .into_iter()
        .map(|reference| reference.name)
        .collect()
}

#[test]
fn parser_finds_grouped_and_relative_imports() {
    let source = "\
use crate::cm::client::CmClient;
use crate::{card::{apdu, atr}, config::StationConfig, self};
use super::super::audit::Record;
use super::Command;
use super::{jobs, protocol::Report};
fn f() -> crate::domain::Id { $crate::journal::x() }
pub(super) fn g() {}
pub(crate) fn h() {}
";
    assert_eq!(
        names("worker/effects.rs", source),
        ["cm", "card", "config", "audit", "domain", "journal"]
    );
    // At the top of a file under src/, one `super` reaches the crate root.
    assert_eq!(
        names("config.rs", "use super::{cm, domain::X};"),
        ["cm", "domain"]
    );
    // `src/foo/mod.rs` is at the level of `foo`.
    assert_eq!(
        names("cm/mod.rs", "use super::card::Atr; use self::super::audit;"),
        ["card", "audit"]
    );
    assert_eq!(
        names("cm/client.rs", "use super::model::X;"),
        Vec::<String>::new()
    );
    // An inline `mod tests { .. }` is one level more.
    let source = "mod tests { use super::super::ReadOptions; use super::super::super::audit; }";
    assert_eq!(names("card/identity.rs", source), ["audit"]);
    let source = "mod tests { use super::*; fn f() { super::super::cm::run() } }\nuse super::ui;";
    assert_eq!(names("gui.rs", source), ["cm", "ui"]);
    // Line numbers point at the name.
    let source = "fn f() {}\nuse crate::{\n    audit,\n    cm::x,\n};";
    let lines: Vec<usize> = root_references("ui/mod.rs", source)
        .iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(lines, [3, 4]);
}

#[test]
fn parser_skips_comments_strings_and_chars() {
    let source = r###"
//! Draws [`crate::ui`] things.
/// See crate::ui::desk.
// use crate::ui;
/* use crate::ui; /* nested */ use crate::ui; */
const A: &str = "use crate::ui; \" crate::ui";
const B: &str = r#"crate::ui "quoted" "#;
const C: &[u8] = br##"crate::ui"##;
const D: char = '"'; const E: char = '\''; const F: &str = "\\"; fn f<'a>(x: &'a str) {}
const G: &str = "multi
line"; use crate::audit;
"###;
    assert!(braces_balance(&tokenize(source)));
    assert!(!braces_balance(&tokenize("fn f() { let s = \"}\"; ")));
    let references = root_references("station.rs", source);
    assert_eq!(
        references,
        [Reference {
            line: 11,
            name: "audit".to_string()
        }]
    );
}

#[test]
fn forbidden_import_is_a_violation() {
    let layers = table(&[
        ("domain", &[]),
        ("cm", &["domain"]),
        ("ui", &["cm", "domain"]),
    ]);
    let source = "use crate::domain::Request;\nuse crate::ui::widgets;\n// crate::ui in a comment\nuse crate::cm::Client;";
    assert_eq!(
        layer_violations("cm/client.rs", source, &layers),
        ["src/cm/client.rs:2: cm may not import ui (allowed: domain)"]
    );
    assert_eq!(
        layer_violations(
            "domain/mod.rs",
            "use crate::cm;\nuse crate::domain::x;\nuse crate::VERSION;",
            &layers
        ),
        ["src/domain/mod.rs:1: domain may not import cm (allowed: -)"]
    );
    assert_eq!(
        layer_violations("ui/mod.rs", "use crate::{cm, domain};", &layers),
        Vec::<String>::new()
    );
    assert_eq!(
        layer_violations("audit.rs", "", &layers),
        ["src/audit.rs:1: `audit` is not in the layer table"]
    );
}

#[test]
fn layer_table_is_read_and_checked() {
    let lib = "\
//! The crate.
//!
//! ## Layers
//!
//! Prose.
//!
//! ```text
//! # module   may import
//! domain     -
//!
//! cm         domain
//! ui         cm,domain ,  domain
//! ```

pub mod cm;
";
    let parsed = parse_layer_table(lib).expect("a good table");
    assert_eq!(
        parsed,
        table(&[
            ("domain", &[]),
            ("cm", &["domain"]),
            ("ui", &["cm", "domain", "domain"])
        ])
    );
    let modules: BTreeSet<String> = ["domain", "cm", "audit"]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        table_problems(&parsed, &modules),
        [
            "`audit` is a module in src/ but the table does not list it",
            "the table lists `ui`, but there is no src/ui/ or src/ui.rs",
        ]
    );
    let unknown = table(&[("cm", &["platform"])]);
    assert_eq!(
        table_problems(&unknown, &["cm".to_string()].into()),
        ["`cm` may import `platform`, which is not a module in src/"]
    );
    assert!(parse_layer_table("//! The crate.\npub mod cm;").is_err());
    assert!(parse_layer_table("//! ## Layers\n//! none here\npub mod cm;").is_err());
    assert!(parse_layer_table("//! ## Layers\n//! ```text\n//! cm domain\npub mod cm;").is_err());
    assert!(parse_layer_table("//! ## Layers\n//! ```text\n//! cm\n//! ```").is_err());
    assert!(parse_layer_table("//! ## Layers\n//! ```text\n//! cm a\n//! cm b\n//! ```").is_err());
    assert!(parse_layer_table("//! ## Layers\n//! ```text\n//! cm a b\n//! ```").is_err());
}

#[test]
fn module_paths() {
    assert_eq!(module_path("worker/effects.rs"), ["worker", "effects"]);
    assert_eq!(module_path("cm/auth/mod.rs"), ["cm", "auth"]);
    assert_eq!(module_path("config.rs"), ["config"]);
    assert_eq!(module_path("lib.rs"), Vec::<String>::new());
    assert_eq!(top_level_module("supervisors/throttle.rs"), "supervisors");
    assert_eq!(top_level_module("supervisors.rs"), "supervisors");
}

#[test]
fn size_note_is_required_over_the_limit() {
    let body = |lines: usize| "fn f() {}\n".repeat(lines);
    assert_eq!(size_problem("a.rs", &body(MAX_LINES)), None);
    assert_eq!(
        size_problem("a.rs", &body(MAX_LINES + 1)),
        Some(format!("src/a.rs: {} lines", MAX_LINES + 1))
    );
    let noted = format!(
        "//! The a.\n//!\n//! Size: one state machine and its tests.\n{}",
        body(MAX_LINES)
    );
    assert_eq!(size_problem("a.rs", &noted), None);
    let late = format!(
        "{}//! Size: too late.\n{}",
        "//!\n".repeat(SIZE_NOTE_WITHIN),
        body(MAX_LINES)
    );
    assert!(size_problem("a.rs", &late).is_some());
    let empty = format!("//! Size:\n{}", body(MAX_LINES));
    assert!(size_problem("a.rs", &empty).is_some());
}

#[test]
fn result_string_is_counted_at_the_top_level_only() {
    let count = |source: &str| result_string_lines(source).len();
    assert_eq!(count("fn f() -> Result<(), String> {}"), 1);
    assert_eq!(count("fn f() -> Result<Vec<u8>, String> {}"), 1);
    assert_eq!(count("fn f<T>() -> Result<T, String> {}"), 1);
    assert_eq!(count("fn f() -> std::result::Result<x, String> {}"), 1);
    assert_eq!(count("let r = Result::<u8, String>::Ok(1);"), 1);
    assert_eq!(count("type F = Result<Box<dyn Fn() -> u8>, String>;"), 1);
    assert_eq!(count("fn f() -> Result<String, String> {}"), 1);
    assert_eq!(
        count("struct S { a: Result<HashMap<u8, String>, String> }"),
        1
    );
    // Decided: each `Result` is judged on its own arguments, so the inner one
    // counts and the outer one, whose error is `Error`, does not.
    assert_eq!(
        result_string_lines("fn f() -> Result<Vec<Result<u8, String>>, Error> {}"),
        [1]
    );
    assert_eq!(
        count("fn f() -> Result<Vec<Result<u8, String>>, String> {}"),
        2
    );
    assert_eq!(count("fn f() -> Result<(u8, String), E> {}"), 0);
    assert_eq!(count("fn f() -> Result<String, E> {}"), 0);
    assert_eq!(count("fn f() -> anyhow::Result<String> {}"), 0);
    assert_eq!(count("fn f() -> Result<u8, std::string::String> {}"), 0);
    assert_eq!(count("fn f() -> MyResult<u8, String> {}"), 0);
    assert_eq!(
        count("// Result<(), String>\nconst S: &str = \"Result<(), String>\";"),
        0
    );
}

#[test]
fn result_string_skips_test_modules() {
    let source = "\
fn a() -> Result<(), String> { Ok(()) }
#[cfg(test)]
mod tests {
    const OPEN: char = '{';
    // }
    const CLOSE: &str = \"}}\";
    fn b() -> Result<(), String> { Ok(()) }
}
#[cfg(test)]
#[allow(dead_code)]
pub(crate) mod emulator_args_tests { fn c() -> Result<(), String> { Ok(()) } }
#[cfg(test)]
fn helper() -> Result<(), String> { Ok(()) }
fn d() -> Result<u8, String> { Ok(1) }
";
    assert_eq!(result_string_lines(source), [1, 13, 14]);
}
