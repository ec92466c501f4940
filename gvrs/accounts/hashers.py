"""The password hash: Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).

Django's default (PBKDF2, 1,000,000 iterations) costs 0.3-0.7 s of CPU per sign-in, so a few
people signing in at once queue behind each other on a small server. Argon2id is memory-hard
(a guessing rig pays in memory, not only CPU), and at these parameters verifies in tens of
milliseconds. Older hashes (PBKDF2) still verify and are re-hashed at the next sign-in.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19_456  # KiB
    parallelism = 1
