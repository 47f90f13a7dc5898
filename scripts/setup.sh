#!/usr/bin/env bash
# Installs what vpo needs on Debian/Ubuntu, and nothing that is already there.
#
#   scripts/setup.sh            run it: Deno 2.9.6 (from npm), ffmpeg, mkvtoolnix, taskset/ionice
#   scripts/setup.sh --test     also what the test suite drives for real (see TEST_PACKAGES)
#   scripts/setup.sh --dry-run  print the commands it would run, run none
#
# Works as root (no sudo needed) and as a user with sudo. The README's "run it" and "test it"
# commands and .ci/run all call this script, so they cannot drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."

DENO_VERSION=2.9.6
with_tests=0
dry_run=0
for arg in "$@"; do
  case "$arg" in
    --test) with_tests=1 ;;
    --dry-run) dry_run=1 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (use --test, --dry-run)" >&2; exit 2 ;;
  esac
done

# "command:package" pairs: a package is installed only when its command is missing.
RUN_PACKAGES=(
  ffmpeg:ffmpeg
  ffprobe:ffmpeg
  mkvmerge:mkvtoolnix
  taskset:util-linux
  ionice:util-linux
)
# Packages the tests use for real. Add new test dependencies here, one "command:package" each.
TEST_PACKAGES=(
  systemd-analyze:systemd # tests/contrib_test.ts verifies the shipped units
  crontab:cron            # tests/contrib_test.ts parses contrib/cron/vpo
  bash:bash               # tests/completions_test.ts sources the bash completion
  zsh:zsh                 # ... and the zsh one
  fish:fish               # ... and the fish one
  chromium:chromium       # browser tests
  sshfs:sshfs             # queue over sshfs
  sshd:openssh-server
  smbd:samba              # queue over SMB
  smbnetfs:smbnetfs
  faketime:faketime       # clock-skew tests
  ip:iproute2             # network namespaces of the multi-host tests
  logrotate:logrotate     # tests/contrib_test.ts checks contrib/logrotate/vpo
  python3:python3         # tests/helpers/racer.ts swaps names with renameat2
)

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  as_root=(__no_root__)
fi

run() {
  if [ "${1:-}" = "__no_root__" ]; then
    shift
    echo "setup.sh: installing needs root: run it as root, or as a user with sudo (it would run: $*)" >&2
    exit 1
  fi
  if [ "$dry_run" -eq 1 ]; then
    echo "+ $*"
    return 0
  fi
  "$@"
}

wanted=("${RUN_PACKAGES[@]}")
[ "$with_tests" -eq 1 ] && wanted+=("${TEST_PACKAGES[@]}")
# Deno comes from npm: npm itself is an apt package on a machine without Node.
command -v deno >/dev/null 2>&1 || wanted+=(npm:npm)

missing=()
for pair in "${wanted[@]}"; do
  cmd=${pair%%:*}
  pkg=${pair#*:}
  # sshd and friends live in sbin, which a user's PATH may lack.
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/sbin/$cmd" ]; then
    case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  run "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  run "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v deno >/dev/null 2>&1; then
  echo "setup.sh: installing deno@$DENO_VERSION from npm"
  # npm's global prefix is root's on a Debian npm; a user-owned prefix (nvm) needs no sudo.
  prefix=$(npm prefix -g 2>/dev/null || echo /usr)
  if [ -w "$prefix/lib" ] || [ -w "$prefix" ]; then
    run npm install -g "deno@$DENO_VERSION"
  else
    run "${as_root[@]}" npm install -g "deno@$DENO_VERSION"
  fi
fi

if [ "$dry_run" -eq 0 ]; then
  # The npm dependencies, exactly as deno.lock pins them.
  deno install --frozen >/dev/null
  echo "setup.sh: ready: $(deno --version | head -1), $(ffmpeg -hide_banner -version | head -1)"
fi
