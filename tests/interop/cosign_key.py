#!/usr/bin/python3
"""An independent reader and writer of cosign's encrypted key format, for
interop tests: scrypt from hashlib, NaCl secretbox from python3-nacl.

  cosign_key.py decrypt KEY.pem PASSWORD > key.der
  cosign_key.py encrypt KEY.der PASSWORD N PEMTYPE > key.pem
"""
import base64
import hashlib
import json
import os
import sys

import nacl.secret


def pem_body(text):
    lines = [l.strip() for l in text.strip().splitlines()]
    kind = lines[0][len("-----BEGIN "):-len("-----")]
    return kind, base64.b64decode("".join(lines[1:-1]))


def decrypt(path, password):
    kind, body = pem_body(open(path).read())
    doc = json.loads(body)
    assert doc["kdf"]["name"] == "scrypt", doc["kdf"]["name"]
    assert doc["cipher"]["name"] == "nacl/secretbox"
    p = doc["kdf"]["params"]
    key = hashlib.scrypt(password.encode(), salt=base64.b64decode(doc["kdf"]["salt"]),
                         n=p["N"], r=p["r"], p=p["p"], maxmem=2**31 - 1, dklen=32)
    box = nacl.secret.SecretBox(key)
    der = box.decrypt(base64.b64decode(doc["ciphertext"]),
                      base64.b64decode(doc["cipher"]["nonce"]))
    sys.stderr.write("type=%s N=%d r=%d p=%d salt=%d nonce=%d\n" % (
        kind, p["N"], p["r"], p["p"], len(base64.b64decode(doc["kdf"]["salt"])),
        len(base64.b64decode(doc["cipher"]["nonce"]))))
    sys.stdout.buffer.write(der)


def encrypt(der_path, password, n, kind):
    der = open(der_path, "rb").read()
    salt = os.urandom(32)
    nonce = os.urandom(24)
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1,
                         maxmem=2**31 - 1, dklen=32)
    ct = nacl.secret.SecretBox(key).encrypt(der, nonce).ciphertext
    doc = {"kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1},
                   "salt": base64.b64encode(salt).decode()},
           "cipher": {"name": "nacl/secretbox",
                      "nonce": base64.b64encode(nonce).decode()},
           "ciphertext": base64.b64encode(ct).decode()}
    b64 = base64.b64encode(json.dumps(doc).encode()).decode()
    out = "-----BEGIN %s-----\n" % kind
    out += "".join(b64[i:i + 64] + "\n" for i in range(0, len(b64), 64))
    out += "-----END %s-----\n" % kind
    sys.stdout.write(out)


if __name__ == "__main__":
    if sys.argv[1] == "decrypt":
        decrypt(sys.argv[2], sys.argv[3])
    else:
        encrypt(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
