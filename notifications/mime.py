"""E-mails whose attachments are made into MIME parts once and shared.

Everyone at a group session gets the same calendar file with their reminder. Django makes
each attachment into a MIME part anew for every message it writes out, with its headers and
parameters, which is a fair share of the time it takes to send a reminder. The same content
always makes the same part, and parts are never changed once made (the e-mail generators
copy a part before they change anything), so one part can sit in many messages.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

# Notifications only attach small files (a calendar file is a few kilobytes): keep a few
# dozen parts, and make larger ones afresh each time rather than keep them.
SHARED_PART_MAX_BYTES = 64 * 1024


class SharedPartsEmail(EmailMultiAlternatives):
    """An e-mail whose attachments are MIME parts shared with every other e-mail that
    attaches the same file (name, content and type)."""

    def _create_attachment(self, filename, content, mimetype=None):
        encoding = self.encoding or settings.DEFAULT_CHARSET
        if len(content) > SHARED_PART_MAX_BYTES:
            return super()._create_attachment(filename, content, mimetype)
        return _attachment_part(filename, content, mimetype, encoding)


@functools.lru_cache(maxsize=64)
def _attachment_part(filename, content, mimetype, encoding):
    maker = EmailMultiAlternatives()
    maker.encoding = encoding
    return maker._create_attachment(filename, content, mimetype)
