#!/usr/bin/env bash
# Builds the release archives into $DIST (default <repo>/dist), named and laid out as the
# Terraform and OpenTofu registries and provider mirrors expect:
#
#   terraform-provider-iom_VERSION_OS_ARCH.zip       the provider, one per target; inside,
#                                                    the binary terraform-provider-iom_vVERSION
#   terraform-provider-iom_VERSION_manifest.json     plugin protocol 6.0
#   terraform-provider-iom_VERSION_SHA256SUMS        the zips and the manifest
#   terraform-provider-iom_VERSION_SHA256SUMS.sig    detached binary GPG signature of it
#   terraform-provider-iom_VERSION_signing-key.asc   the public key that made the signature
#   plan-guard_VERSION_OS_ARCH.tar.gz                the plan-guard binary, one per target
#   plan-guard_VERSION_SHA256SUMS (+ .sig)           the plan-guard archives
#
# VERSION is the workspace's package version (Cargo.toml). TARGETS lists Terraform
# platforms (default linux_amd64); a target other than this machine's needs its Rust target
# (`rustup target add`) and a linker for it. GPG_KEY_ID signs with that key from the
# caller's keyring; without it a throwaway key is made in a temporary GNUPGHOME and
# discarded, which is fine for a test or a private mirror but not for publishing.
# SOURCE_DATE_EPOCH (default: the last commit's time) dates every archive member, so the
# same build gives byte-identical archives.
set -euo pipefail

die() { echo "release: $*" >&2; exit 1; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="${DIST:-$repo/dist}"
targets="${TARGETS:-linux_amd64}"
provider=terraform-provider-iom
cd "$repo"

for tool in cargo python3 gpg zip sha256sum tar gzip; do
  command -v "$tool" >/dev/null || die "no $tool on PATH (Debian: bash scripts/install-test-tools.sh installs gpg and zip)"
done

# A package's version from its id: path+file:///…/dir#VERSION or …#NAME@VERSION.
package_version() {
  local id
  id="$(cargo pkgid -p "$1")" || die "cargo pkgid -p $1 failed"
  id="${id##*#}"
  echo "${id##*@}"
}
version="$(package_version plan-guard)"
provider_version="$(package_version "$provider")"
[ "$provider_version" = "$version" ] \
  || die "plan-guard is $version but $provider is $provider_version: release them together"
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
host="$(rustc -vV | sed -n 's/^host: //p')"
target_dir="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

# The Rust target that builds a Terraform platform.
rust_target() {
  case "$1" in
    linux_amd64) echo x86_64-unknown-linux-gnu ;;
    linux_arm64) echo aarch64-unknown-linux-gnu ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    windows_amd64) echo x86_64-pc-windows-msvc ;;
    *) die "unknown target $1 (one of linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64)" ;;
  esac
}

# Builds one package for one Rust target; prints the binary's path. The host's own target
# builds without --target, into the same target/release that `cargo install --path` and a
# plain `cargo build --release` use, so their work is shared. Each package builds on its own
# (as `cargo install` does): building both at once unifies their dependencies' features and
# would compile the shared dependencies a second way.
build() {
  local package="$1" bin="$2" triple="$3" exe="$4"
  if [ "$triple" = "$host" ]; then
    cargo build --release --locked -p "$package" >&2
    echo "$target_dir/release/$bin$exe"
  else
    cargo build --release --locked -p "$package" --target "$triple" >&2 \
      || die "could not build $package for $triple: rustup target add $triple, and a linker for it"
    echo "$target_dir/$triple/release/$bin$exe"
  fi
}

stage="$(mktemp -d)"
gnupg_tmp=""
cleanup() {
  if [ -n "$gnupg_tmp" ]; then gpgconf --homedir "$gnupg_tmp" --kill all 2>/dev/null || true; fi
  rm -rf "$stage" "$gnupg_tmp"
}
trap cleanup EXIT

mkdir -p "$dist"
rm -f "$dist/${provider}_${version}_"* "$dist/plan-guard_${version}_"*

for platform in $targets; do
  triple="$(rust_target "$platform")"
  exe=""
  case "$platform" in windows_*) exe=".exe" ;; esac
  echo "release: building $version for $platform ($triple)" >&2

  dir="$stage/$platform"
  mkdir -p "$dir/provider" "$dir/plan-guard"
  cp "$(build "$provider" "$provider" "$triple" "$exe")" "$dir/provider/${provider}_v${version}$exe"
  cp "$(build plan-guard plan-guard "$triple" "$exe")" "$dir/plan-guard/plan-guard$exe"
  # The release profile keeps debug line tables (the binaries are ~100 MB with them);
  # a published binary does without. Only the host's: its strip knows that format.
  if [ "$triple" = "$host" ] && command -v strip >/dev/null; then
    strip --strip-debug "$dir/provider/${provider}_v${version}$exe" "$dir/plan-guard/plan-guard$exe"
  fi
  find "$dir" -exec touch -h -d "@$epoch" {} +

  # -X: no uid/gid or extra timestamps; TZ=UTC because zip stores local time.
  (cd "$dir/provider" && TZ=UTC zip -q -X "$dist/${provider}_${version}_${platform}.zip" "${provider}_v${version}$exe")
  tar -C "$dir/plan-guard" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    -cf - "plan-guard$exe" | gzip -n -9 >"$dist/plan-guard_${version}_${platform}.tar.gz"
done

cat >"$dist/${provider}_${version}_manifest.json" <<'JSON'
{
  "version": 1,
  "metadata": {
    "protocol_versions": ["6.0"]
  }
}
JSON

(
  cd "$dist"
  sha256sum "${provider}_${version}_"*.zip "${provider}_${version}_manifest.json" >"${provider}_${version}_SHA256SUMS"
  sha256sum "plan-guard_${version}_"*.tar.gz >"plan-guard_${version}_SHA256SUMS"
)

# Signing: the caller's key, or a throwaway one in a temporary keyring.
if [ -n "${GPG_KEY_ID:-}" ]; then
  key="$GPG_KEY_ID"
else
  gnupg_tmp="$(mktemp -d)"
  export GNUPGHOME="$gnupg_tmp"
  echo "release: no GPG_KEY_ID: signing with a throwaway key (not for publishing)" >&2
  # RSA: the Terraform Registry takes RSA and DSA signing keys.
  gpg --batch --quiet --passphrase '' --quick-gen-key \
    "IOM release (throwaway) <release@iom.invalid>" rsa3072 sign 1d 2>/dev/null
  key="$(gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')"
fi
gpg --batch --armor --export "$key" >"$dist/${provider}_${version}_signing-key.asc"
[ -s "$dist/${provider}_${version}_signing-key.asc" ] || die "gpg has no public key $key"
for sums in "${provider}_${version}_SHA256SUMS" "plan-guard_${version}_SHA256SUMS"; do
  gpg --batch --yes --quiet --local-user "$key" --detach-sign \
    --output "$dist/$sums.sig" "$dist/$sums"
done

echo "release: $version in $dist" >&2
(cd "$dist" && ls -1 "${provider}_${version}_"* "plan-guard_${version}_"*)
