#!/usr/bin/env python3
"""The command-line contract of serve, build-golden (with both Python
interpreters), loadtest, and a real Packer 1.6.6 build against the
emulator."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import (Emulator, FAKEAWS, BUILD, WORKLOAD, key_of,  # noqa
                     secret_of)

E = None
SYSTEM_PY = "/usr/bin/python3"


def setUpModule():
    global E
    E = Emulator()


def tearDownModule():
    E.stop()


class Serve(unittest.TestCase):
    def test_ready_line_and_clean_sigterm(self):
        p = subprocess.Popen([sys.executable, os.path.join(FAKEAWS, "serve"),
                              "--port", "0"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        self.assertRegex(line, r"^ready http://127\.0\.0\.1:\d+\n$")
        port = int(line.strip().rsplit(":", 1)[1])
        socket.create_connection(("127.0.0.1", port)).close()
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)
        self.assertEqual(p.stdout.read(), "")
        p.stdout.close()
        p.stderr.close()

    def test_sigint_and_fixed_port(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        p = subprocess.Popen([sys.executable, os.path.join(FAKEAWS, "serve"),
                              "--port", str(port)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        self.assertEqual(p.stdout.readline().strip(),
                         "ready http://127.0.0.1:%d" % port)
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(10), 0)
        p.stdout.close()

    def test_binds_loopback_only(self):
        out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True)
        if out.returncode != 0:
            out = subprocess.run(["netstat", "-ltn"], capture_output=True,
                                 text=True)
        lines = [ln for ln in out.stdout.splitlines()
                 if ":%d " % E.port in ln]
        self.assertTrue(lines, out.stdout)
        for ln in lines:
            self.assertIn("127.0.0.1:%d" % E.port, ln)

    def test_custom_world_and_clock(self):
        world = {
            "accounts": [{"id": "123456789012", "access_key_id":
                          "AKIATESTTESTTEST0001", "secret_access_key": "s1"}],
            "roles": [], "settings": {"image_available_after_seconds": 5}}
        em = Emulator("--clock", "2015-08-30T12:36:00Z", world=world)
        try:
            from fixture import error_of
            import time
            self.assertTrue(em.admin("GET", "clock")["now"].startswith(
                "2015-08-30T12:3"))
            # Clients signing with the host clock are far outside the
            # 15-minute window of an emulator living in 2015.
            sts = em.client("sts", creds=("AKIATESTTESTTEST0001", "s1"))
            code, st, msg = error_of(sts.get_caller_identity)
            self.assertEqual((code, st), ("SignatureDoesNotMatch", 403))
            self.assertIn("Signature not yet current", msg)
            em.admin("POST", "clock", {"set": time.time()})
            self.assertEqual(sts.get_caller_identity()["Account"],
                             "123456789012")
            code, st, _ = error_of(em.ec2(BUILD).describe_regions)
            self.assertEqual((code, st), ("AuthFailure", 401))
        finally:
            em.stop()

    def test_runs_under_the_system_python(self):
        if not os.path.exists(SYSTEM_PY):
            self.fail("%s is missing" % SYSTEM_PY)
        p = subprocess.Popen([SYSTEM_PY, os.path.join(FAKEAWS, "serve"),
                              "--port", "0", "--tls"],
                             stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            line = p.stdout.readline()
            self.assertTrue(line.startswith("ready https://"), line)
            ca = p.stdout.readline().split(None, 1)[1].strip()
            from fixture import session, NO_RETRY
            ec2 = session().create_client(
                "ec2", region_name="us-east-1", endpoint_url=line.split()[1],
                aws_access_key_id=key_of(BUILD),
                aws_secret_access_key=secret_of(BUILD), verify=ca,
                config=NO_RETRY)
            self.assertEqual(len(ec2.describe_images(Owners=["amazon"])[
                "Images"]), 1)
            # The newest botocore model on the machine is used, so
            # parameters added after botocore 1.29 are still known.
            ec2.describe_images(Owners=["self"], MaxResults=5)
        finally:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(10), 0)
            p.stdout.close()
            p.stderr.close()

    def test_bad_world_is_reported(self):
        d = tempfile.mkdtemp()
        try:
            wp = os.path.join(d, "w.json")
            with open(wp, "w") as f:
                json.dump({"accounts": [], "roles": [
                    {"account": "1", "name": "x"}]}, f)
            r = subprocess.run([sys.executable,
                                os.path.join(FAKEAWS, "serve"), "--port",
                                "0", "--world", wp], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.returncode, 2)
            self.assertIn("bad world", r.stderr)
        finally:
            shutil.rmtree(d)

    def test_dump_world_has_documented_ids(self):
        r = subprocess.run([sys.executable, os.path.join(FAKEAWS, "serve"),
                            "--port", "0", "--dump-world"],
                           capture_output=True, text=True, timeout=30)
        w = json.loads(r.stdout)
        ids = [a["id"] for a in w["accounts"]]
        self.assertEqual(ids, ["100000000000", "111111111111",
                               "222222222222", "333333333333",
                               "444444444444", "555555555555",
                               "666666666666", "777777777777"])
        self.assertEqual(w["organization"]["id"], "o-amishare01")
        roles = {(r["account"], r["name"]) for r in w["roles"]}
        self.assertIn(("444444444444", "AmishareTaggerExt"), roles)
        self.assertIn(("100000000000", "AmishareOrgReader"), roles)
        self.assertNotIn(("100000000000", "AmishareTagger"), roles)


class BuildGolden(unittest.TestCase):
    def run_tool(self, py, *args):
        r = subprocess.run([py, os.path.join(FAKEAWS, "build-golden"),
                            "--endpoint", E.endpoint] + list(args),
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_multi_region_with_manifest(self):
        d = tempfile.mkdtemp()
        try:
            man = os.path.join(d, "manifest.json")
            out = self.run_tool(sys.executable, "--regions",
                                "us-east-1,eu-west-1", "--name",
                                "bg-one", "--tag", "team=platform",
                                "--manifest", man, "--run-uuid", "run-1",
                                "--build-name", "base",
                                "--custom-data", "commit=abc")
            self.assertEqual(sorted(out), ["eu-west-1", "us-east-1"])
            out2 = self.run_tool(sys.executable, "--regions", "us-east-1",
                                 "--name", "bg-two", "--manifest", man,
                                 "--run-uuid", "run-2")
            doc = json.load(open(man))
            self.assertEqual(doc["last_run_uuid"], "run-2")
            self.assertEqual(len(doc["builds"]), 2)
            b = doc["builds"][0]
            self.assertEqual(b["builder_type"], "amazon-ebs")
            self.assertIsNone(b["files"])
            self.assertEqual(b["artifact_id"], "us-east-1:%s,eu-west-1:%s" % (
                out["us-east-1"], out["eu-west-1"]))
            self.assertEqual(b["custom_data"], {"commit": "abc"})
            self.assertEqual(doc["builds"][1]["artifact_id"],
                             "us-east-1:%s" % out2["us-east-1"])
            for region, ami in out.items():
                img = E.ec2(BUILD, region).describe_images(
                    ImageIds=[ami])["Images"][0]
                self.assertEqual(img["State"], "available")
                self.assertEqual(img["Tags"], [{"Key": "team",
                                                "Value": "platform"}])
        finally:
            shutil.rmtree(d)

    def test_encrypted_with_system_python(self):
        if not os.path.exists(SYSTEM_PY):
            self.fail("%s is missing" % SYSTEM_PY)
        out = self.run_tool(SYSTEM_PY, "--regions", "us-east-1,us-west-2",
                            "--name", "bg-enc", "--encrypted", "--tag",
                            "Name=enc")
        for region, ami in out.items():
            img = E.ec2(BUILD, region).describe_images(
                ImageIds=[ami])["Images"][0]
            ebs = img["BlockDeviceMappings"][0]["Ebs"]
            self.assertTrue(ebs["Encrypted"])
            meta = E.client("kms", BUILD, region).describe_key(
                KeyId=ebs["KmsKeyId"])["KeyMetadata"]
            self.assertEqual(meta["KeyManager"], "CUSTOMER")
            self.assertEqual(img["Tags"], [{"Key": "Name", "Value": "enc"}])
        # The generated key lets organisation members launch it.
        ami = out["us-east-1"]
        E.ec2().modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"UserId": WORKLOAD}]})
        t = E.ec2(WORKLOAD)
        iid = t.run_instances(ImageId=ami, MinCount=1, MaxCount=1,
                              InstanceType="t3.micro")["Instances"][0][
                                  "InstanceId"]
        st = t.describe_instances(InstanceIds=[iid])["Reservations"][0][
            "Instances"][0]["State"]["Name"]
        self.assertEqual(st, "running")


class LoadTest(unittest.TestCase):
    def test_small_bounded_run(self):
        r = subprocess.run([sys.executable, os.path.join(FAKEAWS,
                                                         "loadtest"),
                            "--endpoint", E.endpoint, "--action", "sts",
                            "--connections", "4", "--requests", "400",
                            "--seconds", "10"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout)
        self.assertEqual((res["requests"], res["errors"]), (400, 0))


class Packer(unittest.TestCase):
    def test_real_packer_build(self):
        packer = shutil.which("packer")
        self.assertIsNotNone(packer, "packer is not installed")
        d = tempfile.mkdtemp()
        try:
            shutil.copy(os.path.join(FAKEAWS, "packer", "golden.json"), d)
            env = dict(os.environ, FAKEAWS=E.endpoint,
                       AWS_ACCESS_KEY_ID=key_of(BUILD),
                       AWS_SECRET_ACCESS_KEY=secret_of(BUILD),
                       CHECKPOINT_DISABLE="1", PACKER_NO_COLOR="1",
                       HOME=d)
            env.pop("AWS_PROFILE", None)
            r = subprocess.run([packer, "build", "-color=false",
                                "golden.json"], cwd=d, env=env,
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout[-3000:])
            man = json.load(open(os.path.join(d, "manifest.json")))
            arts = dict(x.split(":") for x in
                        man["builds"][0]["artifact_id"].split(","))
            self.assertEqual(sorted(arts), ["eu-west-1", "us-east-1"])
            for region, ami in arts.items():
                img = E.ec2(WORKLOAD, region).describe_images(
                    ImageIds=[ami])["Images"][0]
                self.assertEqual(img["State"], "available")
                self.assertNotIn("Tags", img)     # owner's tags stay private
                own = E.ec2(BUILD, region).describe_images(
                    ImageIds=[ami])["Images"][0]
                self.assertIn({"Key": "team", "Value": "platform"},
                              own["Tags"])
            st = E.state(BUILD)["ec2"]
            self.assertEqual([i for i in st["instances"]
                              if i["state"] != "terminated"], [])
            self.assertEqual(st["key_pairs"], [])
            self.assertEqual(st["security_groups"], [])
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    import pytap
    pytap.main()
