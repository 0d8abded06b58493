"""An e-mail backend for worker tests: a mail server that takes messages and then stops
answering, so a test can kill the worker between a message being accepted and the worker
hearing so (and marking it sent).

It writes each message like Django's file backend; once it has accepted
TEST_MAIL_HANG_AFTER messages it hangs before returning.
"""

from __future__ import annotations

import os
import time

from django.core.mail.backends import filebased


class HangingEmailBackend(filebased.EmailBackend):
    accepted = 0  # for the whole worker process

    def send_messages(self, email_messages):
        count = super().send_messages(email_messages)
        type(self).accepted += count or 0
        hang_after = int(os.environ.get("TEST_MAIL_HANG_AFTER") or 0)
        if hang_after and type(self).accepted >= hang_after:
            time.sleep(600)  # the test kills the worker long before this ends
        return count
