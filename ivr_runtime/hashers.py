"""The hasher for caller PINs."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class PinHasher(PBKDF2PasswordHasher):
    """PBKDF2 for caller PINs with far fewer rounds than Django uses for passwords.

    A caller waits on the line while the PIN is checked, and a webhook worker is busy for
    as long as the hash takes: with the password work factor (about half a second here) a
    few callers entering PINs at once stall every other call. A 4 to 8 digit PIN's strength
    is its length, not the work factor; what protects PINs is the database's secrecy and
    `max_attempts`. Salted and stored in Django's hash format all the same.
    """

    algorithm = "pbkdf2_sha256_pin"
    iterations = 20_000


PIN_HASHER = PinHasher()
