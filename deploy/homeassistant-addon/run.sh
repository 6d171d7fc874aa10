#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# cocoon's Home Assistant app (an add-on before 2026.2): ask the Supervisor for the
# MQTT broker, write cocoon's configuration with it and with Home Assistant's API, and
# run cocoon.
#
# The folders are the app's: /config (its own config folder, `app_config` in the
# config.yaml at the repository's root), /data (private, kept across updates). The COCOON_ADDON_* variables
# exist for tests/deploy/test_addon.py, which runs this script with a stand-in bashio.
set -e

config_dir="${COCOON_ADDON_CONFIG_DIR:-/config}"
data_dir="${COCOON_ADDON_DATA_DIR:-/data}"
share_dir="${COCOON_ADDON_SHARE_DIR:-/usr/local/share/cocoon-addon}"
lib_dir="${COCOON_ADDON_LIB_DIR:-/usr/local/lib/cocoon-addon}"

config_file="${config_dir}/$(bashio::config 'config_file')"
if ! bashio::fs.file_exists "${config_file}"; then
    bashio::log.warning "No ${config_file} yet: writing a first home to start from."
    bashio::log.warning "Edit it in the app's folder (…_cocoon under app_configs on the host), then restart the app."
    cp "${share_dir}/cocoon.yaml" "${config_file}"
fi

if ! bashio::services.available "mqtt"; then
    bashio::exit.nok "No MQTT broker: install and start the Mosquitto broker app."
fi
MQTT_HOST="$(bashio::services mqtt "host")"
MQTT_PORT="$(bashio::services mqtt "port")"
MQTT_USERNAME="$(bashio::services mqtt "username")"
MQTT_PASSWORD="$(bashio::services mqtt "password")"
export MQTT_HOST MQTT_PORT MQTT_USERNAME MQTT_PASSWORD
# The Supervisor's proxy to Home Assistant's API; SUPERVISOR_TOKEN opens it.
export HA_URL="http://supervisor/core"
if [[ -z "${SUPERVISOR_TOKEN:-}" ]]; then
    bashio::exit.nok "No SUPERVISOR_TOKEN: is homeassistant_api enabled in config.yaml?"
fi
bashio::log.info "MQTT broker: ${MQTT_HOST}:${MQTT_PORT}; Home Assistant: ${HA_URL}"

run_dir="${data_dir}/run"
python3 "${lib_dir}/addon_config.py" "${config_file}" "${run_dir}"

options=()
if [[ "$(bashio::config 'log_level')" == "debug" ]]; then
    options+=(--verbose)
fi
options+=(--log-format "$(bashio::config 'log_format')")

# Errors name the lines of the generated file, which has the lines of yours.
if ! cocoon "${options[@]}" check --config "${run_dir}/cocoon.yaml"; then
    bashio::exit.nok "Fix ${config_file} (the errors above), then restart the app."
fi
# Every device held against what Zigbee2MQTT and Home Assistant really have: a
# misspelt name is in the log, with the closest real one. Nothing to stop for.
bashio::log.info "Checking the devices against Zigbee2MQTT and Home Assistant:"
cocoon "${options[@]}" check --live --config "${run_dir}/cocoon.yaml" || true
# A dashboard made for this home, beside its configuration, to paste into Home
# Assistant (DOCS.md says how); written afresh at every start.
if ! cocoon dashboard --config "${run_dir}/cocoon.yaml" > "${config_dir}/dashboard.yaml"; then
    bashio::log.warning "Could not write ${config_dir}/dashboard.yaml; carrying on without it."
fi
exec cocoon "${options[@]}" run --config "${run_dir}/cocoon.yaml" --state-dir "${data_dir}/state"
