#!/bin/sh
# Writes the password file from env at start, so no hashed secret is baked into an image or the repo.
set -eu
: "${MQTT_USERNAME:?MQTT_USERNAME is required}"
: "${MQTT_PASSWORD:?MQTT_PASSWORD is required}"
umask 077
rm -f /mosquitto/data/passwd
mosquitto_passwd -c -b /mosquitto/data/passwd "$MQTT_USERNAME" "$MQTT_PASSWORD"
chown mosquitto:mosquitto /mosquitto/data/passwd 2>/dev/null || true
# Credentials for the healthcheck's mosquitto_sub, read from its config file so the password never shows on a
# command line (ps, docker inspect).
mkdir -p /mosquitto/data/.config
printf -- '-u %s\n-P %s\n' "$MQTT_USERNAME" "$MQTT_PASSWORD" > /mosquitto/data/.config/mosquitto_sub
exec mosquitto -c /mosquitto/config/mosquitto.conf
