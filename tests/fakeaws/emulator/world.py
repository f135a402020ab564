"""The static world: accounts, keys, roles, the organisation tree and
behaviour settings. Everything dynamic (images, snapshots, temporary
credentials, ...) lives in the service modules."""
import copy
import fnmatch
import json

ORG_ID = "o-amishare01"
MGMT = "100000000000"


def default_secret(account):
    return "fakeaws-secret-%s-EXAMPLEKEY0" % account


def default_key(account):
    return "AKIAFAKE%s" % account


def _acct(aid, name, status="ACTIVE"):
    return {"id": aid, "name": name, "email": "aws+%s@amishare.example" % aid,
            "status": status, "access_key_id": default_key(aid),
            "secret_access_key": default_secret(aid), "user": "amishare"}


DEFAULT_WORLD = {
    "partition": "aws",
    "accounts": [
        _acct("100000000000", "management"),
        _acct("111111111111", "build"),
        _acct("222222222222", "workload"),
        _acct("333333333333", "prod-a"),
        _acct("444444444444", "prod-b"),
        _acct("555555555555", "sandbox"),
        _acct("666666666666", "retired", "SUSPENDED"),
        _acct("777777777777", "outsider"),
    ],
    "organization": {
        "id": ORG_ID,
        "management_account": MGMT,
        "feature_set": "ALL",
        "delegated_administrators": [],
        "root": {
            "id": "r-ams1", "name": "Root",
            "accounts": ["100000000000", "555555555555"],
            "ous": [
                {"id": "ou-ams1-platform", "name": "Platform",
                 "accounts": ["111111111111"], "ous": []},
                {"id": "ou-ams1-workload", "name": "Workload",
                 "accounts": ["222222222222", "666666666666"],
                 "ous": [
                     {"id": "ou-ams1-prodnest", "name": "Production",
                      "accounts": ["333333333333", "444444444444"],
                      "ous": []},
                 ]},
            ],
        },
    },
    "roles": (
        [{"account": a, "name": "AmishareTagger",
          "trusted_accounts": ["111111111111"], "max_session_duration": 3600}
         for a in ("111111111111", "222222222222", "333333333333",
                   "444444444444", "555555555555", "666666666666",
                   "777777777777")]
        + [
            {"account": "444444444444", "name": "AmishareTaggerExt",
             "trusted_accounts": ["111111111111"], "external_id": "ams-ext-1",
             "max_session_duration": 3600},
            {"account": MGMT, "name": "AmishareOrgReader",
             "trusted_accounts": ["111111111111"],
             "max_session_duration": 3600},
            {"account": "111111111111", "name": "AmishareCI",
             "trusted_accounts": [], "max_session_duration": 3600,
             "web_identity": {
                 "provider": "token.actions.githubusercontent.com",
                 "audience": "sts.amazonaws.com",
                 "subjects": ["repo:amishare/*"]}},
            {"account": "111111111111", "name": "AmishareBuilder",
             "trusted_accounts": ["111111111111"],
             "max_session_duration": 3600},
        ]),
    "oidc_providers": [
        {"url": "https://token.actions.githubusercontent.com",
         "audiences": ["sts.amazonaws.com"],
         "hs256_secret": "fakeaws-oidc-signing-secret"},
    ],
    "instance_profile": {"account": "111111111111", "role": "AmishareBuilder"},
    "container_credentials": {"account": "111111111111",
                              "role": "AmishareBuilder",
                              "authorization": "fakeaws-container-token"},
    "actions_oidc": {"request_token": "fakeaws-actions-request-token",
                     "subject": "repo:amishare/amishare:ref:refs/heads/main"},
    "public_images": [
        {"region": "*", "name": "amzn2-ami-hvm-2.0.20250101.0-x86_64-gp2",
         "description": "Amazon Linux 2 look-alike base image",
         "owner": "137112412989", "owner_alias": "amazon"},
    ],
    "deny": [],
    "kms_keys": [],
    "settings": {
        "image_available_after_seconds": 0,
        "copy_available_after_seconds": 0,
        "instance_transition_seconds": 0,
        "snapshot_complete_after_seconds": 0,
        "propagation_delay_seconds": 0,
        "credential_lifetime_seconds": None,
        "ssm_validation_delay_seconds": 0,
        "image_block_public_access": True,
        "sharing_quota": 1000,
        "deregistered_linger_seconds": 0,
    },
}


class WorldError(Exception):
    pass


class World(object):
    def __init__(self, data=None):
        d = copy.deepcopy(DEFAULT_WORLD if data is None else data)
        self.raw = d
        self.partition = d.get("partition", "aws")
        base = copy.deepcopy(DEFAULT_WORLD["settings"])
        base.update(d.get("settings") or {})
        self.settings = base
        self.accounts = {}
        self.by_key = {}
        for a in d.get("accounts", []):
            a = dict(a)
            if "id" not in a:
                raise WorldError("account without id")
            a.setdefault("status", "ACTIVE")
            a.setdefault("name", a["id"])
            a.setdefault("email", "aws+%s@amishare.example" % a["id"])
            a.setdefault("user", "amishare")
            self.accounts[a["id"]] = a
            if a.get("access_key_id"):
                self.by_key[a["access_key_id"]] = (a, a["secret_access_key"])
            for extra in a.get("extra_keys", []):
                self.by_key[extra["access_key_id"]] = (
                    a, extra["secret_access_key"])
        self.roles = {}
        for r in d.get("roles", []):
            r = dict(r)
            r.setdefault("trusted_accounts", [])
            r.setdefault("max_session_duration", 3600)
            if r["account"] not in self.accounts:
                raise WorldError("role %s in unknown account %s"
                                 % (r["name"], r["account"]))
            self.roles[(r["account"], r["name"])] = r
        self.oidc = {p["url"].replace("https://", ""): p
                     for p in d.get("oidc_providers", [])}
        self.deny = list(d.get("deny", []))
        self.instance_profile = d.get("instance_profile")
        self.container = d.get("container_credentials")
        self.actions_oidc = d.get("actions_oidc")
        self.kms_keys = d.get("kms_keys", [])
        self._load_org(d.get("organization"))

    def _load_org(self, org):
        self.org = org
        self.parent = {}       # account or ou id -> parent id
        self.ous = {}          # ou id -> node
        self.org_accounts = []  # in tree order
        if not org:
            return
        root = org["root"]
        self.root_id = root["id"]
        self.ous[root["id"]] = root

        def walk(node):
            for a in node.get("accounts", []):
                if a not in self.accounts:
                    raise WorldError("org references unknown account %s" % a)
                self.parent[a] = node["id"]
                self.org_accounts.append(a)
            for ou in node.get("ous", []):
                ou.setdefault("accounts", [])
                ou.setdefault("ous", [])
                ou.setdefault("name", ou["id"])
                self.parent[ou["id"]] = node["id"]
                self.ous[ou["id"]] = ou
                walk(ou)
        walk(root)
        if org["management_account"] not in self.parent:
            raise WorldError("management account not in the organisation")

    # ---- queries ------------------------------------------------------
    def in_org(self, account):
        return account in self.parent

    def active_member(self, account):
        a = self.accounts.get(account)
        return (a is not None and self.in_org(account)
                and a.get("status", "ACTIVE") == "ACTIVE")

    def ancestors(self, account):
        """OU ids (and the root id) above an account, nearest first."""
        out = []
        p = self.parent.get(account)
        while p is not None:
            out.append(p)
            p = self.parent.get(p)
        return out

    def org_arn(self):
        return "arn:%s:organizations::%s:organization/%s" % (
            self.partition, self.org["management_account"], self.org["id"])

    def ou_arn(self, ou_id):
        kind = "root" if ou_id == self.root_id else "ou"
        return "arn:%s:organizations::%s:%s/%s/%s" % (
            self.partition, self.org["management_account"], kind,
            self.org["id"], ou_id)

    def account_matches_org_arn(self, account, arn):
        if not self.org or not self.active_member(account):
            return False
        return arn == self.org_arn()

    def account_matches_ou_arn(self, account, arn):
        if not self.org or not self.active_member(account):
            return False
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[4] != self.org["management_account"]:
            return False
        res = parts[5].split("/")
        if len(res) != 3 or res[0] != "ou" or res[1] != self.org["id"]:
            return False
        return res[2] in self.ancestors(account)

    def is_org_admin(self, account):
        if not self.org:
            return False
        return (account == self.org["management_account"]
                or account in self.org.get("delegated_administrators", []))

    def denied(self, account, action, region, role=None, service=None):
        for d in self.deny:
            if not _m(d.get("account"), account):
                continue
            if not _m(d.get("action"), action):
                continue
            if not _m(d.get("region"), region):
                continue
            if d.get("role") is not None and not _m(d.get("role"), role):
                continue
            if not _m(d.get("service"), service):
                continue
            return True
        return False

    def role_web_identity_ok(self, role, claims):
        wi = role.get("web_identity")
        if not wi:
            return False
        if claims.get("iss", "").replace("https://", "") != \
                wi.get("provider"):
            return False
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if wi.get("audience") and wi["audience"] not in auds:
            return False
        subs = wi.get("subjects")
        if subs and not any(fnmatch.fnmatchcase(claims.get("sub", ""), p)
                            for p in subs):
            return False
        return True


def _m(pattern, value):
    if pattern is None or pattern == "*":
        return True
    if isinstance(pattern, list):
        return any(_m(p, value) for p in pattern)
    if value is None:
        return False
    return fnmatch.fnmatchcase(str(value), str(pattern))


def load(path):
    if path is None:
        return World()
    with open(path) as f:
        return World(json.load(f))
