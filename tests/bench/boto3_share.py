#!/usr/bin/env python3
"""The boto3 contender of the benchmark: what a platform team's script
does to share an AMI with many accounts and copy its tags into them.

  boto3_share.py [--threads N]

Reads the job from the environment the benchmark sets: BENCH_AMIS
("region:ami-id,..."), BENCH_ACCOUNTS_FILE (one account id per line),
BENCH_ROLE_NAME, plus the usual AWS_* variables (the build account's
keys, AWS_ENDPOINT_URL). For every Region it reads the image's tags and
adds every account to the launch permission with one
ModifyImageAttribute; then, per account (sequentially, or on a
ThreadPoolExecutor of N workers), it assumes the role and calls
CreateTags in every Region with a client built from the role's
credentials. Clients come from one boto3 Session per thread, as boto3's
documentation recommends (a Session is not thread-safe; its loader
caches the service models, so a client costs milliseconds, not a model
parse). boto3's defaults are kept (retry mode, pool sizes), as such a
script would. Exits 1 when any account failed.
"""
import argparse
import concurrent.futures
import os
import sys
import threading

import boto3


def load_job():
    amis = dict(p.split(":", 1) for p in os.environ["BENCH_AMIS"].split(","))
    with open(os.environ["BENCH_ACCOUNTS_FILE"]) as f:
        accounts = [ln.strip() for ln in f if ln.strip()]
    return amis, accounts, os.environ.get("BENCH_ROLE_NAME", "AmishareTagger")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    amis, accounts, role = load_job()
    session = boto3.Session()
    tags = {}
    for region, ami in amis.items():
        ec2 = session.client("ec2", region_name=region)
        img = ec2.describe_images(ImageIds=[ami])["Images"][0]
        tags[region] = [t for t in img.get("Tags", [])
                        if not t["Key"].startswith("aws:")]
        ec2.modify_image_attribute(
            ImageId=ami,
            LaunchPermission={"Add": [{"UserId": acct}
                                      for acct in accounts]})
    sts = session.client("sts")
    local = threading.local()

    def thread_session():
        if not hasattr(local, "session"):
            local.session = boto3.Session()
        return local.session

    def tag_account(acct):
        creds = sts.assume_role(
            RoleArn="arn:aws:iam::%s:role/%s" % (acct, role),
            RoleSessionName="ami-tagger")["Credentials"]
        for region, ami in amis.items():
            thread_session().client(
                "ec2", region_name=region,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"]).create_tags(
                    Resources=[ami], Tags=tags[region])

    failed = 0
    if a.threads > 1:
        with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
            futs = {ex.submit(tag_account, acct): acct for acct in accounts}
            for fut in concurrent.futures.as_completed(futs):
                try:
                    fut.result()
                except Exception as e:  # a script like this logs and goes on
                    failed += 1
                    print("%s: %s" % (futs[fut], e), file=sys.stderr)
    else:
        for acct in accounts:
            try:
                tag_account(acct)
            except Exception as e:
                failed += 1
                print("%s: %s" % (acct, e), file=sys.stderr)
    print("%d accounts, %d failed" % (len(accounts), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
