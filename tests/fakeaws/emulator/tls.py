"""Start-up certificate generation with the openssl command line: a
throw-away CA and a server certificate for 127.0.0.1 and localhost
signed by it. Clients trust the CA through AWS_CA_BUNDLE."""
import os
import shutil
import ssl
import subprocess
import tempfile

LEAF_EXT = """basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
"""
CA_EXT = """[req]
distinguished_name=dn
x509_extensions=v3_ca
prompt=no
[dn]
CN=fakeaws test CA
O=amishare tests
[v3_ca]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
"""


def _run(args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_certs(workdir=None):
    """Return (dir, ca_pem, cert_pem, key_pem) paths."""
    d = workdir or tempfile.mkdtemp(prefix="fakeaws-tls-")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(CA_EXT)
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write(LEAF_EXT)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    _run(["openssl", "req", "-x509", "-nodes"] + ec +
         ["-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
          "-config", "ca.cnf"], d)
    _run(["openssl", "req", "-new", "-nodes"] + ec +
         ["-keyout", "server.key", "-out", "server.csr",
          "-subj", "/CN=localhost/O=amishare tests"], d)
    _run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem",
          "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
          "-days", "30", "-sha256", "-extfile", "leaf.ext"], d)
    return (d, os.path.join(d, "ca.pem"), os.path.join(d, "server.pem"),
            os.path.join(d, "server.key"))


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def cleanup(d):
    shutil.rmtree(d, ignore_errors=True)
