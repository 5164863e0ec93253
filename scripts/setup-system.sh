#!/usr/bin/env bash
# Installs the Debian packages Custos's tests start as real peers: PostgreSQL (throwaway clusters via
# initdb/pg_ctl), OpenSSH (rotation targets, proxy peers), rsyslog (SIEM receiver), MariaDB (rotation target),
# HAProxy (in front of several nodes), Chromium (console tests), oathtool (TOTP cross-checks), sudo (rotation with
# an admin account: sudo chpasswd on the sshd target), iproute2 (a network namespace only the connector reaches)
# and openssl (throwaway TLS certificates).
# Packages install without starting their services: tests start their own on loopback with throwaway configs.
set -euo pipefail

packages=(postgresql openssh-server openssh-client rsyslog rsyslog-gnutls mariadb-server haproxy chromium oathtool sudo iproute2 openssl)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: run as root (or with sudo) to install: ${packages[*]}" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all test peers are installed"
  exit 0
fi

echo "setup-system: installing ${missing[*]}"
# policy-rc.d exit 101 tells Debian's maintainer scripts not to start services: we never touch the machine's own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup-system: done"
