"""The demo's inference function, in the tutorial's style (a pinned, long-lived function that reads the local shadow,
runs the standardiser and the rain predictor, and writes rain_prediction back every 10 s), but without TensorFlow:
both models run in Moss's native engine through the inference service (greengrass_machine_learning_sdk), which
answers for the ML resources attached to this function."""
import json
import logging
import os
import threading
import time

import greengrass_machine_learning_sdk as ml
import greengrasssdk

THING_NAME = os.environ["THING_NAME"]
INTERVAL = float(os.environ.get("INFERENCE_INTERVAL", "10"))
CLASSIFICATION_THRESHOLD = 0.5

client = greengrasssdk.client("iot-data")
inference = ml.client("inference")


def infer(service, inputs):
    reply = inference.invoke_inference_service(
        AlgoType="tensorflow", ServiceName=service, ContentType="application/json", Body=json.dumps({"inputs": inputs})
    )
    return json.loads(reply["Body"].read())


def parse_shadow(thing_shadow):
    reported = thing_shadow["state"]["reported"]
    # The predictor expects shape (observations x features), features in this order.
    return [[reported["pressure"], reported["temperature"], reported["humidity"]]]


def first(value):
    while isinstance(value, list):
        value = value[0]
    return value


def predict():
    thing_shadow = json.loads(client.get_thing_shadow(thingName=THING_NAME)["payload"])
    features = infer("standardiser", {"x": parse_shadow(thing_shadow)})["x_prime"]
    return first(infer("rain_predictor", {"input": features})["y"])


def loop():
    while True:
        try:
            probability = predict()
            prediction = int(probability >= CLASSIFICATION_THRESHOLD)
            update = {"state": {"reported": {"rain_prediction": prediction, "rain_probability": probability}}}
            client.update_thing_shadow(thingName=THING_NAME, payload=json.dumps(update))
            time.sleep(INTERVAL)
        except Exception as e:
            # No readings in the shadow yet, most likely: try again soon rather than a whole interval later.
            logging.warning("No prediction yet: %r", e)
            time.sleep(min(INTERVAL, 2.0))


# Pinned: the module is imported once when the group starts, and the loop runs for the life of the function. It runs
# in a thread (the tutorial looped at import) so that the function still answers its handler.
threading.Thread(target=loop, name="rain-inference", daemon=True).start()


def function_handler(event, context):
    return
