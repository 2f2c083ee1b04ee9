"""A webhook receiver for the compose `demo` profile: verifies signatures, prints events.

python -m worker.demo.receiver --port 8080   (secret from ALERT_WEBHOOK_SECRET)
"""

from __future__ import annotations

import argparse
import os
import time

from worker.alerts.events import from_payload, summary_line
from worker.demo.servers import WebhookReceiver, verify_signature


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - inside its container
    arguments = parser.parse_args()
    secret = os.environ["ALERT_WEBHOOK_SECRET"].split()[0]
    receiver = WebhookReceiver(
        lambda body, headers: verify_signature(secret, headers, body),
        lambda event: print(f"{event['type']}: {summary_line(from_payload(event))}", flush=True),
        address=(arguments.host, arguments.port),
    )
    with receiver:
        print(f"webhook receiver on {receiver.url}", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
