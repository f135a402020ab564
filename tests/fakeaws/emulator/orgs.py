"""Organizations: read-only views of the world's organisation tree.

DescribeOrganization works from any member account; listing calls need
the management account or a delegated administrator. Listings are
paginated (MaxResults 1..20) and, when a fault rule asks for it, return
an empty page that still carries a NextToken."""
import base64
import json
import re

from .errors import AwsError

ROOT_RE = re.compile(r"^r-[0-9a-z]{4,32}$")
OU_RE = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")
ACCT_RE = re.compile(r"^\d{12}$")
DEFAULT_PAGE = 20


def invalid(reason, msg):
    return AwsError("InvalidInputException", msg,
                    fields={"Reason": reason})


class Organizations(object):
    def __init__(self, app):
        self.app = app
        self.handlers = {
            "DescribeOrganization": self.describe_organization,
            "ListRoots": self.list_roots,
            "ListChildren": self.list_children,
            "ListAccountsForParent": self.list_accounts_for_parent,
            "ListAccounts": self.list_accounts,
            "ListOrganizationalUnitsForParent": self.list_ous_for_parent,
            "DescribeAccount": self.describe_account,
            "DescribeOrganizationalUnit": self.describe_ou,
            "ListParents": self.list_parents,
        }

    @property
    def w(self):
        return self.app.world

    def state(self, account, region):
        return {}

    # ---- access -----------------------------------------------------------
    def _member(self, ctx):
        w = self.w
        if not w.org or not w.in_org(ctx.account):
            raise AwsError("AWSOrganizationsNotInUseException",
                           "Your account is not a member of an "
                           "organization.")

    def _admin(self, ctx):
        self._member(ctx)
        if not self.w.is_org_admin(ctx.account):
            raise AwsError("AccessDeniedException",
                           "You don't have permissions to access this "
                           "resource.")

    # ---- documents ----------------------------------------------------------
    def _arn(self, kind, ident):
        w = self.w
        return "arn:%s:organizations::%s:%s/%s/%s" % (
            w.partition, w.org["management_account"], kind, w.org["id"],
            ident)

    def account_doc(self, aid):
        a = self.w.accounts[aid]
        st = a.get("status", "ACTIVE")
        return {"Id": aid, "Arn": self._arn("account", aid),
                "Email": a["email"], "Name": a["name"], "Status": st,
                "State": st, "JoinedMethod":
                "CREATED" if aid != self.w.org["management_account"]
                else "INVITED",
                "JoinedTimestamp": a.get("joined", 1577836800)}

    def ou_doc(self, oid):
        ou = self.w.ous[oid]
        return {"Id": oid, "Arn": self._arn("ou", oid), "Name": ou["name"]}

    def _parent(self, pid):
        if pid is None:
            raise invalid("INPUT_REQUIRED", "ParentId is required.")
        if not (ROOT_RE.match(pid) or OU_RE.match(pid)):
            raise invalid("INVALID_PATTERN",
                          "You provided a value that does not match the "
                          "required pattern.")
        node = self.w.ous.get(pid)
        if node is None:
            raise AwsError("ParentNotFoundException",
                           "We can't find a root or OU with the ParentId "
                           "that you specified.")
        return node

    def _page(self, ctx, d, items, scope):
        mr = d.get("MaxResults")
        if mr is not None:
            if mr < 1:
                raise invalid("MIN_VALUE_EXCEEDED",
                              "You provided a value that is lower than the "
                              "minimum allowed.")
            if mr > 20:
                raise invalid("MAX_VALUE_EXCEEDED",
                              "You provided a value that is greater than "
                              "the maximum allowed.")
        size = mr or DEFAULT_PAGE
        start = 0
        tok = d.get("NextToken")
        if tok is not None:
            if len(tok) > 100000:
                raise invalid("MAX_LENGTH_EXCEEDED",
                              "You provided a value that is too long.")
            try:
                raw = json.loads(base64.b64decode(tok.encode()).decode())
                start = int(raw["o"])
                if raw["s"] != scope or start < 0:
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                raise invalid("INVALID_PAGINATION_TOKEN",
                              "The NextToken value is not valid.")

        def token(o):
            return base64.b64encode(json.dumps(
                {"o": o, "s": scope}).encode()).decode()
        if ctx.fault_empty_page:
            return [], token(start)
        page = items[start:start + size]
        nxt = token(start + size) if start + size < len(items) else None
        return page, nxt

    # ---- operations -----------------------------------------------------------
    def describe_organization(self, ctx, d):
        self._member(ctx)
        ctx.authorize()
        w = self.w
        mgmt = w.org["management_account"]
        return {"Organization": {
            "Id": w.org["id"], "Arn": w.org_arn(),
            "FeatureSet": w.org.get("feature_set", "ALL"),
            "MasterAccountArn": self._arn("account", mgmt),
            "MasterAccountId": mgmt,
            "MasterAccountEmail": w.accounts[mgmt]["email"],
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY",
                                      "Status": "ENABLED"}]}}

    def list_roots(self, ctx, d):
        self._admin(ctx)
        ctx.authorize()
        w = self.w
        roots = [{"Id": w.root_id, "Arn": self._arn("root", w.root_id),
                  "Name": w.ous[w.root_id].get("name", "Root"),
                  "PolicyTypes": []}]
        page, nxt = self._page(ctx, d, roots, "roots")
        return {"Roots": page, "NextToken": nxt}

    def list_children(self, ctx, d):
        self._admin(ctx)
        node = self._parent(d.get("ParentId"))
        ct = d.get("ChildType")
        if ct not in ("ACCOUNT", "ORGANIZATIONAL_UNIT"):
            raise invalid("INVALID_ENUM", "You specified an invalid value.")
        ctx.authorize()
        if ct == "ACCOUNT":
            items = [{"Id": a, "Type": "ACCOUNT"} for a in node["accounts"]]
        else:
            items = [{"Id": o["id"], "Type": "ORGANIZATIONAL_UNIT"}
                     for o in node["ous"]]
        page, nxt = self._page(ctx, d, items,
                               "children:%s:%s" % (node["id"], ct))
        return {"Children": page, "NextToken": nxt}

    def list_accounts_for_parent(self, ctx, d):
        self._admin(ctx)
        node = self._parent(d.get("ParentId"))
        ctx.authorize()
        items = [self.account_doc(a) for a in node["accounts"]]
        page, nxt = self._page(ctx, d, items, "accounts:%s" % node["id"])
        return {"Accounts": page, "NextToken": nxt}

    def list_accounts(self, ctx, d):
        self._admin(ctx)
        ctx.authorize()
        items = [self.account_doc(a) for a in self.w.org_accounts]
        page, nxt = self._page(ctx, d, items, "accounts")
        return {"Accounts": page, "NextToken": nxt}

    def list_ous_for_parent(self, ctx, d):
        self._admin(ctx)
        node = self._parent(d.get("ParentId"))
        ctx.authorize()
        items = [self.ou_doc(o["id"]) for o in node["ous"]]
        page, nxt = self._page(ctx, d, items, "ous:%s" % node["id"])
        return {"OrganizationalUnits": page, "NextToken": nxt}

    def describe_account(self, ctx, d):
        self._admin(ctx)
        aid = d.get("AccountId")
        if not ACCT_RE.match(aid or ""):
            raise invalid("INVALID_PATTERN", "You provided a value that "
                          "does not match the required pattern.")
        if aid not in self.w.parent:
            raise AwsError("AccountNotFoundException",
                           "You specified an account that doesn't exist.")
        ctx.authorize()
        return {"Account": self.account_doc(aid)}

    def describe_ou(self, ctx, d):
        self._admin(ctx)
        oid = d.get("OrganizationalUnitId")
        if not OU_RE.match(oid or ""):
            raise invalid("INVALID_PATTERN", "You provided a value that "
                          "does not match the required pattern.")
        if oid not in self.w.ous or oid == self.w.root_id:
            raise AwsError("OrganizationalUnitNotFoundException",
                           "We can't find an OU with the "
                           "OrganizationalUnitId that you specified.")
        ctx.authorize()
        return {"OrganizationalUnit": self.ou_doc(oid)}

    def list_parents(self, ctx, d):
        self._admin(ctx)
        cid = d.get("ChildId")
        w = self.w
        if cid not in w.parent:
            raise AwsError("ChildNotFoundException",
                           "We can't find an organizational unit (OU) or "
                           "AWS account with the ChildId that you "
                           "specified.")
        ctx.authorize()
        p = w.parent[cid]
        items = [{"Id": p, "Type": "ROOT" if p == w.root_id else
                  "ORGANIZATIONAL_UNIT"}]
        page, nxt = self._page(ctx, d, items, "parents:%s" % cid)
        return {"Parents": page, "NextToken": nxt}
