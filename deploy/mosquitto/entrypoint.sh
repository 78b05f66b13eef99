#!/bin/sh
# Writes the password file from env at start, so no hashed secret is baked into an image or the repo.
set -eu
: "${MQTT_USERNAME:?MQTT_USERNAME is required}"
: "${MQTT_PASSWORD:?MQTT_PASSWORD is required}"
umask 077
rm -f /mosquitto/data/passwd
mosquitto_passwd -c -b /mosquitto/data/passwd "$MQTT_USERNAME" "$MQTT_PASSWORD"
chown mosquitto:mosquitto /mosquitto/data/passwd 2>/dev/null || true
exec mosquitto -c /mosquitto/config/mosquitto.conf
