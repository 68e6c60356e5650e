#!/usr/bin/env bash
# Builds the Windows installer on Linux:
#   target/packages/enroll-station-<version>-x64.msi
# Cross-compiles enroll-station.exe for x86_64-pc-windows-gnu with mingw-w64,
# then packs it with wixl (msitools) from packaging/msi/enroll-station.wxs.
# Needs: the rustup target x86_64-pc-windows-gnu, gcc-mingw-w64-x86-64, wixl
# (scripts/deps.sh test installs the Debian packages).
# Usually run as `packaging/build.sh msi`. With --no-build it packs the .exe
# already in the target directory, e.g. one signed since the last build.
set -euo pipefail
cd "$(dirname "$0")/../.."

die() { echo "packaging/msi/build.sh: $*" >&2; exit 1; }

build=true
case "${1:-}" in
  "") ;;
  --no-build) build=false ;;
  *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
esac

triple=x86_64-pc-windows-gnu
for tool in cargo x86_64-w64-mingw32-gcc x86_64-w64-mingw32-objdump wixl; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh test installs it)"
done
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$triple"; then
  rustup target add "$triple"
fi

# The version of the [package] table, not of a dependency.
version=$(awk -F'"' '/^\[/ { in_package = ($0 == "[package]") } in_package && /^version *=/ { print $2; exit }' Cargo.toml)
[[ -n "$version" ]] || die "no version in Cargo.toml's [package]"
# Windows Installer versions are major.minor.build, numbers only, and it
# compares nothing else: a pre-release (1.2.0-rc.1) installs as 1.2.0.
msi_version=${version%%[-+]*}
[[ "$msi_version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || die "version $version is not major.minor.patch"
if ((BASH_REMATCH[1] > 255 || BASH_REMATCH[2] > 255 || BASH_REMATCH[3] > 65535)); then
  die "version $version is beyond what Windows Installer allows (255.255.65535)"
fi
if [[ "$msi_version" != "$version" ]]; then
  echo "packaging/msi/build.sh: note: the MSI carries $version as $msi_version; Windows Installer sees no pre-releases" >&2
fi

target_dir=${CARGO_TARGET_DIR:-target}
if $build; then cargo build --release --locked --target "$triple"; fi
exe="$target_dir/$triple/release/enroll-station.exe"
[[ -f "$exe" ]] || die "there is no $exe to pack"

# A desk gets the .exe alone: any DLL it imports that Windows does not ship
# (libgcc_s, libwinpthread, libstdc++ from mingw) would stop it from starting.
# The windows-gnu target links the MinGW runtime in already; this catches a
# dependency that brings such a DLL back.
windows_dlls='api-ms-win-[a-z0-9-]+|advapi32|bcrypt|bcryptprimitives|cfgmgr32|combase|comctl32|comdlg32|crypt32|dbghelp|dwmapi|gdi32|hid|imm32|iphlpapi|kernel32|msvcrt|ncrypt|ntdll|ole32|oleaut32|opengl32|propsys|secur32|setupapi|shell32|shlwapi|uiautomationcore|user32|userenv|uxtheme|version|winmm|winscard|ws2_32'
imports=$(x86_64-w64-mingw32-objdump -p "$exe" | awk '/DLL Name:/ { print tolower($3) }' | sort -u)
unexpected=$(grep -Ev "^($windows_dlls)\.dll$" <<<"$imports" || true)
[[ -z "$unexpected" ]] || die "enroll-station.exe imports DLLs that Windows does not ship: $(tr '\n' ' ' <<<"$unexpected")"

# Beside the .deb and .rpm, whatever CARGO_TARGET_DIR says (as packaging/build.sh).
out_dir=target/packages
msi="$out_dir/enroll-station-$version-x64.msi"
mkdir -p "$out_dir"
# wixl looks for sources next to the .wxs: stage everything in one folder.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp packaging/msi/enroll-station.wxs packaging/msi/enroll-station.ico "$stage/"
cp "$exe" "$stage/enroll-station.exe"
wixl --arch x64 \
  --define "Version=$msi_version" \
  --define ExeFile=enroll-station.exe \
  --define IconFile=enroll-station.ico \
  --output "$stage/out.msi" "$stage/enroll-station.wxs"
mv "$stage/out.msi" "$msi"
echo "$msi"
