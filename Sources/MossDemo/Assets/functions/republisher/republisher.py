"""The demo's republishing function, written in the tutorial's style: each sensor reading routed here by the group's
subscription becomes an update of the sensor's local shadow (its reported state). On a Raspberry Pi the BME680 sits
above the CPU and reads warm, so, as in the tutorial, the temperature is compensated with the CPU's when
/sys/class/thermal/thermal_zone0/temp exists (the function has accessSysfs)."""
import json
import logging
import os

import greengrasssdk

THING_NAME = os.environ["THING_NAME"]
CPU_TEMPERATURE_FILE = "/sys/class/thermal/thermal_zone0/temp"

client = greengrasssdk.client("iot-data")


def get_cpu_temperature():
    """The CPU temperature in degrees C, or None where the file does not exist (not a Pi, a VM)."""
    try:
        with open(CPU_TEMPERATURE_FILE) as f:
            return float(f.read()) / 1000.0
    except (OSError, ValueError):
        return None


def function_handler(event, context):
    try:
        temperature = float(event["temperature"])
        cpu_temperature = get_cpu_temperature()
        if cpu_temperature is not None:
            # The tutorial's compensation: the sensor reads halfway between the air and the CPU.
            temperature = 2 * temperature - cpu_temperature
        message = {
            "state": {
                "reported": {
                    "temperature": round(temperature, 2),
                    "pressure": event["pressure"],
                    "humidity": event["humidity"],
                    "message": event["message"],
                }
            }
        }
    except (KeyError, TypeError, ValueError) as e:
        logging.error("Not a reading: %r (%r)", event, e)
        return
    logging.info(message)
    client.update_thing_shadow(thingName=THING_NAME, payload=json.dumps(message))
