#!/usr/bin/env bash
# Three worker "hosts" and one file server on this machine, for the multi-host tests (root only).
#
#   hosts.sh up   DIR PROTO   PROTO is sftp, sftp-plain or smb; DIR (empty, absolute) holds all
#                             state. sftp-plain is an SFTP server without posix-rename (a rename
#                             onto an existing name fails, as on many non-OpenSSH servers)
#   hosts.sh exec DIR HOST CMD...   run CMD on host a, b or c (its own network, mount and UTS
#                                   namespaces, hostname vpo-a/b/c, the share at DIR/q)
#   hosts.sh down DIR             unmount, stop the servers, delete the namespaces (idempotent)
#
# The server namespace holds a bridge (10.200.77.1/24) with one veth per host (10.200.77.11-13);
# no address outside these namespaces is used. The server exports DIR/srv over SFTP (sshd with its
# own config and key) or SMB (smbd with its own smb.conf, private dirs and passdb); each host
# mounts it at DIR/q with sshfs or smbnetfs, using the mount options docs/multihost.md requires.
set -euo pipefail

cmd=${1:?usage: hosts.sh up|exec|down DIR ...}
dir=${2:?missing DIR}
# Namespace names carry a hash of DIR, so concurrent harnesses never meet.
tag=$(printf '%s' "$dir" | md5sum | cut -c1-6)
srv_ns="vpo${tag}s"
subnet=10.200.77
hosts=(a b c)

ns_of() { echo "vpo${tag}$1"; }

enter() { # enter HOST CMD...: run in the host's net, mount and UTS namespaces
  local host=$1
  shift
  nsenter --net="/run/netns/$(ns_of "$host")" --mount="$dir/ns/$host.mnt" \
    --uts="$dir/ns/$host.uts" "$@"
}

up_net() {
  ip netns add "$srv_ns"
  ip -n "$srv_ns" link set lo up
  ip -n "$srv_ns" link add br0 type bridge
  ip -n "$srv_ns" addr add "$subnet.1/24" dev br0
  ip -n "$srv_ns" link set br0 up
  local i=11
  for h in "${hosts[@]}"; do
    local ns
    ns=$(ns_of "$h")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "v${tag}$h" netns "$ns" type veth peer name "p${tag}$h" netns "$srv_ns"
    ip -n "$ns" addr add "$subnet.$i/24" dev "v${tag}$h"
    ip -n "$ns" link set "v${tag}$h" up
    ip -n "$srv_ns" link set "p${tag}$h" master br0 up
    i=$((i + 1))
  done
}

up_host_namespaces() {
  # Persistent mount and UTS namespaces need a private mount to live on.
  mkdir -p "$dir/ns" "$dir/q"
  mount --bind "$dir/ns" "$dir/ns"
  mount --make-private "$dir/ns"
  for h in "${hosts[@]}"; do
    touch "$dir/ns/$h.mnt" "$dir/ns/$h.uts"
    nsenter --net="/run/netns/$(ns_of "$h")" unshare --mount="$dir/ns/$h.mnt" \
      --uts="$dir/ns/$h.uts" --propagation slave hostname "vpo-$h"
  done
}

up_sftp() {
  local sftp_flags=${1:-}
  mkdir -p "$dir/ssh"
  chmod 700 "$dir/ssh"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh/client_key"
  cp "$dir/ssh/client_key.pub" "$dir/ssh/authorized_keys"
  cat >"$dir/ssh/sshd_config" <<EOF
ListenAddress $subnet.1:22
HostKey $dir/ssh/host_key
AuthorizedKeysFile $dir/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
PidFile $dir/ssh/sshd.pid
Subsystem sftp internal-sftp $sftp_flags
EOF
  mkdir -p /run/sshd
  ip netns exec "$srv_ns" /usr/sbin/sshd -f "$dir/ssh/sshd_config"
  for h in "${hosts[@]}"; do
    # dir_cache=no and attr_timeout=0: see docs/multihost.md (the staleness bound).
    enter "$h" sshfs "root@$subnet.1:$dir/srv" "$dir/q" -o "IdentityFile=$dir/ssh/client_key" \
      -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
      -o dir_cache=no -o attr_timeout=0 -o entry_timeout=0 -o ServerAliveInterval=5
  done
}

up_smb() {
  mkdir -p "$dir/smb/private" "$dir/smb/state" "$dir/smb/cache" "$dir/smb/lock" "$dir/smb/run"
  cat >"$dir/smb/smb.conf" <<EOF
[global]
  interfaces = $subnet.1/24
  bind interfaces only = yes
  disable netbios = yes
  smb ports = 445
  private dir = $dir/smb/private
  state directory = $dir/smb/state
  cache directory = $dir/smb/cache
  lock directory = $dir/smb/lock
  pid directory = $dir/smb/run
  ncalrpc dir = $dir/smb/run/ncalrpc
  passdb backend = tdbsam:$dir/smb/private/passdb.tdb
  log file = $dir/smb/log.%m
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
[q]
  path = $dir/srv
  read only = no
  force user = root
EOF
  printf 'vpotest\nvpotest\n' | pdbedit -s "$dir/smb/smb.conf" -a -u root -t >/dev/null
  ip netns exec "$srv_ns" /usr/sbin/smbd -D -s "$dir/smb/smb.conf"
  mkdir -p "$dir/smb/client/.smb"
  cat >"$dir/smb/client/.smb/smbnetfs.conf" <<EOF
auth "root" "vpotest"
host $subnet.1 visible=true
smb_query_browsers "false"
stat_workaround_depth 0
EOF
  printf '[global]\n  client min protocol = SMB2\n' >"$dir/smb/client/.smb/smb.conf"
  chmod 600 "$dir/smb/client/.smb/smbnetfs.conf"
  mkdir -p "$dir/smbnet"
  for h in "${hosts[@]}"; do
    enter "$h" env HOME="$dir/smb/client" smbnetfs "$dir/smbnet" \
      -o "config=$dir/smb/client/.smb/smbnetfs.conf" -o attr_timeout=0 -o entry_timeout=0
    # smbnetfs connects on first access; wait for the share to appear, then bind it in place.
    local tries=0
    until enter "$h" test -d "$dir/smbnet/$subnet.1/q"; do
      tries=$((tries + 1))
      [ $tries -lt 50 ] || { echo "smbnetfs on $h: share not reachable" >&2; exit 1; }
      sleep 0.2
    done
    enter "$h" mount --bind "$dir/smbnet/$subnet.1/q" "$dir/q"
  done
}

down() {
  set +e
  for h in "${hosts[@]}"; do
    if [ -e "$dir/ns/$h.mnt" ] && mountpoint -q "$dir/ns/$h.mnt" 2>/dev/null; then
      enter "$h" umount -l "$dir/q" 2>/dev/null
      enter "$h" fusermount -u -z "$dir/q" 2>/dev/null
      enter "$h" fusermount -u -z "$dir/smbnet" 2>/dev/null
    fi
    # Whatever still runs in the host's network namespace (a worker, ffmpeg, sshfs) goes.
    local ns
    ns=$(ns_of "$h")
    if [ -e "/run/netns/$ns" ]; then
      for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null; done
    fi
  done
  [ -f "$dir/ssh/sshd.pid" ] && kill "$(cat "$dir/ssh/sshd.pid")" 2>/dev/null
  [ -f "$dir/smb/run/smbd.pid" ] && kill "$(cat "$dir/smb/run/smbd.pid")" 2>/dev/null
  if [ -e "/run/netns/$srv_ns" ]; then
    for pid in $(ip netns pids "$srv_ns"); do kill -9 "$pid" 2>/dev/null; done
  fi
  for h in "${hosts[@]}"; do
    umount "$dir/ns/$h.mnt" "$dir/ns/$h.uts" 2>/dev/null
    ip netns del "$(ns_of "$h")" 2>/dev/null
  done
  umount "$dir/ns" 2>/dev/null
  ip netns del "$srv_ns" 2>/dev/null
  return 0
}

case "$cmd" in
up)
  proto=${3:?missing PROTO (sftp or smb)}
  mkdir -p "$dir/srv"
  trap 'rc=$?; [ $rc -eq 0 ] || down' EXIT
  up_net
  up_host_namespaces
  case "$proto" in
  sftp) up_sftp ;;
  sftp-plain) up_sftp "-P posix-rename" ;;
  smb) up_smb ;;
  *) echo "unknown protocol $proto" >&2 && exit 2 ;;
  esac
  ;;
exec)
  host=${3:?missing HOST}
  shift 3
  enter "$host" "$@"
  ;;
down) down ;;
*) echo "unknown command $cmd" >&2 && exit 2 ;;
esac
