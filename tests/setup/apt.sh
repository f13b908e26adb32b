# Sourced by the setup scripts: a private apt configuration (amd64 and i386, Debian 12's
# main and updates suites, never the security suite whose i386 index is stale on these
# machines) under "$1", exported as APT_CONFIG, with the package lists updated. The
# system's sources and dpkg architectures stay untouched; packages are only downloaded.
private_apt() {
  local work=$1
  mkdir -p "$work"/{lists/partial,archives/partial,sources.list.d,debs}
  cat >"$work/sources.list" <<SRC
deb [arch=amd64,i386 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [arch=amd64,i386 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
SRC
  cat >"$work/apt.conf" <<CONF
APT::Architectures { "amd64"; "i386"; };
Dir::Etc::SourceList "$work/sources.list";
Dir::Etc::SourceParts "$work/sources.list.d";
Dir::State::Lists "$work/lists";
Dir::Cache::Archives "$work/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
  export APT_CONFIG="$work/apt.conf"
  apt-get update -qq
}
