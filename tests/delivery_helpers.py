"""Real servers on loopback for the delivery tests: an SMTP server (aiosmtpd) that keeps what
it receives, and an HTTPS server with a self-signed certificate made for the test (trusted
through ``GVRS_FETCH_CA_FILE``) serving files from a folder, with ETags."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import ipaddress
import socket
import ssl
import threading
from email import message_from_bytes, policy
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], object]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def texts(self) -> list[str]:
        """Each message whole: headers and body, as a reader would see them."""
        return [
            f"{m['Subject']}\n{m['To']}\n{m.get_body(preferencelist=('plain',)).get_content()}"
            for _, m in self.received
        ]


@pytest.fixture
def smtp_server(settings):
    """An SMTP server on loopback, and gvrs's email settings pointed at it."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.GVRS_SITE_URL = "https://gvrs.example.org"
    try:
        yield mailbox
    finally:
        controller.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gvrs test records system")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Files(http.server.BaseHTTPRequestHandler):
    folder: Path
    requests: list[tuple[str, str]]

    def do_GET(self):
        path = self.folder / self.path.lstrip("/").split("?")[0]
        self.requests.append((self.path, self.headers.get("If-None-Match", "")))
        if not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def https_server(tmp_path, settings):
    """(base URL, the folder it serves, the requests it got); its certificate is trusted
    through GVRS_FETCH_CA_FILE, as a city would trust its own authority."""
    served = tmp_path / "served"
    served.mkdir()
    cert, key = self_signed(tmp_path)
    handler = type("Files", (_Files,), {"folder": served, "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.GVRS_FETCH_CA_FILE = str(cert)
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", served, handler.requests
    finally:
        server.shutdown()
        server.server_close()
