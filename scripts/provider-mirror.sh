#!/usr/bin/env bash
# Lays out the provider archives that scripts/release.sh wrote to DIST as a provider
# mirror under OUT, in the tree `terraform providers mirror` makes:
#
#   OUT/HOSTNAME/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip
#   OUT/HOSTNAME/NAMESPACE/TYPE/index.json      {"versions": {"VERSION": {}, ...}}
#   OUT/HOSTNAME/NAMESPACE/TYPE/VERSION.json    {"archives": {"OS_ARCH": {"url", "hashes"}}}
#
# The same directory is a filesystem mirror (Terraform's "packed" layout; it ignores the
# JSON files) and, served as static files over HTTPS, a network mirror (the JSON files
# are the provider network mirror protocol). Each archive lists two hashes: "zh:" (the
# SHA-256 of the zip, as in SHA256SUMS) and "h1:" (Terraform's hash of the unpacked
# contents, the one lock files record). Adding a second version keeps the first.
#
# usage: provider-mirror.sh DIST OUT [HOSTNAME/NAMESPACE/TYPE]   (default registry.terraform.io/iom-dev/iom)
set -euo pipefail

die() { echo "provider-mirror: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: provider-mirror.sh DIST OUT [HOSTNAME/NAMESPACE/TYPE]"
dist="$1"
out="$2"
source_addr="${3:-registry.terraform.io/iom-dev/iom}"
type="${source_addr##*/}"
command -v python3 >/dev/null || die "no python3 on PATH"

mkdir -p "$out/$source_addr"
python3 - "$dist" "$out/$source_addr" "$type" <<'PY'
import base64, hashlib, json, os, re, shutil, sys, zipfile

dist, dest, provider_type = sys.argv[1:4]
pattern = re.compile(
    r"^terraform-provider-%s_(?P<version>[^_]+)_(?P<platform>[a-z0-9]+_[a-z0-9]+)\.zip$"
    % re.escape(provider_type)
)


def h1(path):
    """Terraform's "h1:" hash: SHA-256 over the sorted lines "<sha256 hex>  <name>\\n" of
    every file in the package (Go's dirhash.Hash1), base64-encoded."""
    lines = []
    with zipfile.ZipFile(path) as z:
        for name in sorted(i.filename for i in z.infolist() if not i.is_dir()):
            lines.append("%s  %s\n" % (hashlib.sha256(z.read(name)).hexdigest(), name))
    return "h1:" + base64.b64encode(hashlib.sha256("".join(lines).encode()).digest()).decode()


def zh(path):
    with open(path, "rb") as f:
        return "zh:" + hashlib.sha256(f.read()).hexdigest()


releases = {}
for name in sorted(os.listdir(dist)):
    m = pattern.match(name)
    if m:
        releases.setdefault(m["version"], {})[m["platform"]] = name
if not releases:
    sys.exit("provider-mirror: no terraform-provider-%s_VERSION_OS_ARCH.zip in %s" % (provider_type, dist))

for version, archives in releases.items():
    listing = {}
    for platform, name in sorted(archives.items()):
        shutil.copyfile(os.path.join(dist, name), os.path.join(dest, name))
        # The URL is relative to VERSION.json: the archive sits beside it.
        listing[platform] = {"url": name, "hashes": [h1(os.path.join(dest, name)), zh(os.path.join(dest, name))]}
    with open(os.path.join(dest, version + ".json"), "w") as f:
        json.dump({"archives": listing}, f, indent=2)
        f.write("\n")

# Every version this mirror has, including ones added by earlier runs.
versions = sorted(n[: -len(".json")] for n in os.listdir(dest) if n.endswith(".json") and n != "index.json")
with open(os.path.join(dest, "index.json"), "w") as f:
    json.dump({"versions": {v: {} for v in versions}}, f, indent=2)
    f.write("\n")
print(dest)
PY
