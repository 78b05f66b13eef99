#!/bin/sh
# Writes the password file and the ACL at start from env (or from files, for docker secrets: X_FILE instead of X),
# so no secret, hashed or not, is baked into an image or the repo.
set -eu
# Where the image keeps them; a test points these elsewhere to run this very script against a broker of its own.
CONFIG_DIR=${MOSQUITTO_CONFIG_DIR:-/mosquitto/config}
DATA_DIR=${MOSQUITTO_DATA_DIR:-/mosquitto/data}
CONF=${MOSQUITTO_CONF:-$CONFIG_DIR/mosquitto.conf}

# secret NAME: the value of $NAME, or the content of the file $NAME_FILE names.
secret() {
  eval "value=\${$1:-}"
  eval "file=\${$1_FILE:-}"
  if [ -z "$value" ] && [ -n "$file" ]; then value=$(cat "$file"); fi
  if [ -z "$value" ]; then echo "mosquitto: $1 (or $1_FILE) is required" >&2; exit 1; fi
  printf '%s' "$value"
}

: "${LINE:?LINE is required}"
REPLAY_LINE=${REPLAY_LINE:-${LINE}-replay}
umask 077
rm -f "$DATA_DIR/passwd"
for user in simulator detector api monitor; do
  var=$(echo "MQTT_${user}_PASSWORD" | tr '[:lower:]' '[:upper:]')
  pass=$(secret "$var")
  if [ -f "$DATA_DIR/passwd" ]; then
    mosquitto_passwd -b "$DATA_DIR/passwd" "linewatch-$user" "$pass"
  else
    mosquitto_passwd -c -b "$DATA_DIR/passwd" "linewatch-$user" "$pass"
  fi
done
sed "s/@REPLAY_LINE@/$REPLAY_LINE/g" "$CONFIG_DIR/acl.template" > "$DATA_DIR/acl"
chown mosquitto:mosquitto "$DATA_DIR/passwd" "$DATA_DIR/acl" 2>/dev/null || true
# Credentials for the healthcheck's mosquitto_sub, read from its config file so the password never shows on a
# command line (ps, docker inspect).
mkdir -p "$DATA_DIR/.config"
printf -- '-u %s\n-P %s\n' linewatch-monitor "$(secret MQTT_MONITOR_PASSWORD)" > "$DATA_DIR/.config/mosquitto_sub"
exec mosquitto -c "$CONF"
