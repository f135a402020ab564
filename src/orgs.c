/*
 * Organizations request builders, response parsers and the validators
 * for organization, OU and root identifiers and ARNs.
 *
 * The validators implement the Organizations model's regexes by hand
 * (fixed prefixes and runs of [a-z0-9] of bounded length), so they need
 * no regex engine and accept nothing the model would refuse.
 */
#include "orgs.h"

#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "json.h"
#include "xmem.h"

/* ---- Validators ------------------------------------------------------ */

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Matches the literal lit at s: where the match ends, or NULL. */
static const char *match_lit(const char *s, const char *lit)
{
	size_t n = strlen(lit);

	return s && !strncmp(s, lit, n) ? s + n : NULL;
}

/*
 * Matches prefix followed by min..max characters of [a-z0-9] at s and
 * returns where the match ends, or NULL.
 */
static const char *match_run(const char *s, const char *prefix, size_t min,
			     size_t max)
{
	size_t n = 0;

	s = match_lit(s, prefix);
	if (!s)
		return NULL;
	while (lower_alnum(s[n]))
		n++;
	return n >= min && n <= max ? s + n : NULL;
}

static const char *match_org_id(const char *s)
{
	return match_run(s, "o-", 10, 32);
}

static const char *match_ou_id(const char *s)
{
	return match_run(match_run(s, "ou-", 4, 32), "-", 8, 32);
}

static const char *match_root_id(const char *s)
{
	return match_run(s, "r-", 4, 32);
}

/* "arn:<partition>:organizations::<12 digits>:": the rest, or NULL. */
static const char *match_arn_head(const char *arn)
{
	static const enum ams_partition parts[] = {
		AMS_PARTITION_AWS,
		AMS_PARTITION_CN,
		AMS_PARTITION_GOV,
	};
	size_t i, j;

	if (!match_lit(arn, "arn:"))
		return NULL;
	for (i = 0; i < ARRAY_SIZE(parts); i++) {
		const char *s =
		    match_lit(arn + 4, ams_partition_name(parts[i]));

		s = match_lit(s, ":organizations::");
		if (!s)
			continue;
		for (j = 0; j < 12; j++)
			if (s[j] < '0' || s[j] > '9')
				return NULL;
		return s[12] == ':' ? s + 13 : NULL;
	}
	return NULL;
}

static enum ams_code check_id(const char *id, const char *end, const char *what,
			      const char *form, struct ams_err *err)
{
	if (!id || !*id)
		return ams_fail(err, AMS_EUSAGE, "empty %s", what);
	if (!end || *end)
		return ams_fail(err, AMS_EUSAGE, "invalid %s '%s': expected %s",
				what, id, form);
	return AMS_OK;
}

enum ams_code ams_orgs_check_org_id(const char *id, struct ams_err *err)
{
	return check_id(id, match_org_id(id), "organization id",
			"'o-' and 10 to 32 lowercase letters or digits", err);
}

enum ams_code ams_orgs_check_ou_id(const char *id, struct ams_err *err)
{
	return check_id(id, match_ou_id(id), "organizational unit id",
			"'ou-<4-32 characters>-<8-32 characters>'", err);
}

enum ams_code ams_orgs_check_root_id(const char *id, struct ams_err *err)
{
	return check_id(id, match_root_id(id), "root id",
			"'r-' and 4 to 32 lowercase letters or digits", err);
}

enum ams_code ams_orgs_check_parent_id(const char *id, struct ams_err *err)
{
	const char *end = match_root_id(id);

	if (!end || *end)
		end = match_ou_id(id);
	return check_id(id, end, "parent id",
			"a root id 'r-...' or an OU "
			"id 'ou-...'",
			err);
}

enum ams_code ams_orgs_check_org_arn(const char *arn, struct ams_err *err)
{
	const char *s = match_arn_head(arn);

	return check_id(arn, match_org_id(match_lit(s, "organization/")),
			"organization ARN",
			"'arn:aws:organizations::<account>:organization/o-...'",
			err);
}

enum ams_code ams_orgs_check_ou_arn(const char *arn, struct ams_err *err)
{
	const char *s = match_arn_head(arn);

	s = match_org_id(match_lit(s, "ou/"));
	s = match_ou_id(match_lit(s, "/"));
	return check_id(arn, s, "organizational unit ARN",
			"'arn:aws:organizations::<account>:ou/o-.../ou-...'",
			err);
}

char *ams_orgs_ou_arn(const char *partition, const char *mgmt_account_id,
		      const char *org_id, const char *ou_id)
{
	return xasprintf("arn:%s:organizations::%s:ou/%s/%s", partition,
			 mgmt_account_id, org_id, ou_id);
}

/* ---- Request builders -------------------------------------------------- */

enum ams_code ams_orgs_build_describe_organization(struct ams_buf *body,
						   struct ams_err *err)
{
	(void)err;
	ams_buf_addstr(body, "{}");
	return AMS_OK;
}

static enum ams_code check_page(unsigned max_results, struct ams_err *err)
{
	if (max_results > AMS_ORGS_MAX_RESULTS)
		return ams_fail(err, AMS_EUSAGE,
				"page size %u: at most %d results per page",
				max_results, AMS_ORGS_MAX_RESULTS);
	return AMS_OK;
}

/* Writes the paging members and closes the object opened by the caller. */
static enum ams_code finish_list(struct ams_json_writer *w,
				 const char *next_token, unsigned max_results,
				 struct ams_err *err)
{
	if (max_results) {
		ams_json_w_key(w, "MaxResults");
		ams_json_w_u64(w, max_results);
	}
	if (next_token && *next_token) {
		ams_json_w_key(w, "NextToken");
		ams_json_w_str(w, next_token);
	}
	ams_json_w_end(w);
	return ams_json_w_finish(w, err);
}

enum ams_code ams_orgs_build_list_roots(struct ams_buf *body,
					const char *next_token,
					unsigned max_results,
					struct ams_err *err)
{
	struct ams_json_writer w;

	if (check_page(max_results, err))
		return AMS_EUSAGE;
	ams_json_w_init(&w, body);
	ams_json_w_object(&w);
	return finish_list(&w, next_token, max_results, err);
}

/* {"ParentId": ..., [more members by the caller], paging} */
static enum ams_code start_parent_list(struct ams_json_writer *w,
				       struct ams_buf *body,
				       const char *parent_id,
				       unsigned max_results,
				       struct ams_err *err)
{
	if (ams_orgs_check_parent_id(parent_id, err) ||
	    check_page(max_results, err))
		return AMS_EUSAGE;
	ams_json_w_init(w, body);
	ams_json_w_object(w);
	ams_json_w_key(w, "ParentId");
	ams_json_w_str(w, parent_id);
	return AMS_OK;
}

enum ams_code ams_orgs_build_list_children(
    struct ams_buf *body, const char *parent_id, enum ams_orgs_child_type type,
    const char *next_token, unsigned max_results, struct ams_err *err)
{
	struct ams_json_writer w;

	if (type != AMS_ORGS_CHILD_ACCOUNT && type != AMS_ORGS_CHILD_OU)
		return ams_fail(err, AMS_EUSAGE, "unknown child type %d",
				(int)type);
	if (start_parent_list(&w, body, parent_id, max_results, err))
		return AMS_EUSAGE;
	ams_json_w_key(&w, "ChildType");
	ams_json_w_str(&w, type == AMS_ORGS_CHILD_ACCOUNT
			       ? "ACCOUNT"
			       : "ORGANIZATIONAL_UNIT");
	return finish_list(&w, next_token, max_results, err);
}

enum ams_code ams_orgs_build_list_accounts_for_parent(struct ams_buf *body,
						      const char *parent_id,
						      const char *next_token,
						      unsigned max_results,
						      struct ams_err *err)
{
	struct ams_json_writer w;

	if (start_parent_list(&w, body, parent_id, max_results, err))
		return AMS_EUSAGE;
	return finish_list(&w, next_token, max_results, err);
}

enum ams_code ams_orgs_build_list_ous_for_parent(struct ams_buf *body,
						 const char *parent_id,
						 const char *next_token,
						 unsigned max_results,
						 struct ams_err *err)
{
	return ams_orgs_build_list_accounts_for_parent(
	    body, parent_id, next_token, max_results, err);
}

/* ---- Response parsers -------------------------------------------------- */

/* NextToken: absent, null and "" all end the listing. */
static enum ams_code get_next_token(char **out, const struct ams_json_val *root,
				    struct ams_err *err)
{
	enum ams_code rc;

	*out = NULL;
	rc = ams_json_get_str_opt(out, root, "NextToken", err);
	if (!rc && *out && !**out) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * The array member name of the page (absent or null: no entries): its
 * element count in *n and first element in *first.
 */
static enum ams_code get_entries(const struct ams_json_val **first, size_t *n,
				 const struct ams_json_val *root,
				 const char *name, struct ams_err *err)
{
	const struct ams_json_val *arr = ams_json_member(root, name);

	*first = NULL;
	*n = 0;
	if (!arr || ams_json_type_of(arr) == AMS_JSON_NULL)
		return AMS_OK;
	if (ams_json_type_of(arr) != AMS_JSON_ARRAY)
		return ams_fail(err, AMS_EPARSE, "%s: expected array", name);
	*first = ams_json_child(arr);
	*n = ams_json_size(arr);
	return AMS_OK;
}

void ams_orgs_organization_release(struct ams_orgs_organization *org)
{
	free(org->id);
	free(org->arn);
	free(org->feature_set);
	free(org->master_account_id);
	free(org->master_account_arn);
	memset(org, 0, sizeof(*org));
}

enum ams_code ams_orgs_parse_describe_organization(
    struct ams_orgs_organization *out, const char *body, size_t len,
    struct ams_err *err)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *root, *org;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = ams_json_parse_object(&doc, &root, body, len, err);
	if (!rc)
		rc = ams_json_get_object(&org, root, "Organization", err);
	if (!rc)
		rc = ams_json_get_str(&out->id, org, "Id", err);
	if (!rc)
		rc = ams_json_get_str_opt(&out->arn, org, "Arn", err);
	if (!rc)
		rc = ams_json_get_str_opt(&out->feature_set, org, "FeatureSet",
					  err);
	if (!rc)
		rc = ams_json_get_str_opt(&out->master_account_id, org,
					  "MasterAccountId", err);
	if (!rc)
		rc = ams_json_get_str_opt(&out->master_account_arn, org,
					  "MasterAccountArn", err);
	ams_json_free(doc);
	if (rc) {
		ams_orgs_organization_release(out);
		ams_err_prefix(err, "DescribeOrganization response");
	}
	return rc;
}

/* One kind of listing page: its action, array member and entry parser. */
struct page_kind {
	const char *action;
	const char *member;
	size_t entry_size;
	enum ams_code (*parse_entry)(void *entry, const struct ams_json_val *e,
				     struct ams_err *err);
};

/*
 * Parses a listing page: every element of kind->member into a new array
 * of entries (*entries, *n; absent or null: none), then NextToken. On
 * failure the entries stay in *entries for the caller's release
 * function, and err names the entry and the action.
 */
static enum ams_code parse_page(void **entries, size_t *n, char **next_token,
				const struct page_kind *kind, const char *body,
				size_t len, struct ams_err *err)
{
	struct ams_json *doc = NULL;
	const struct ams_json_val *root, *e = NULL;
	enum ams_code rc;
	size_t i = 0;

	*entries = NULL;
	*n = 0;
	rc = ams_json_parse_object(&doc, &root, body, len, err);
	if (!rc)
		rc = get_entries(&e, n, root, kind->member, err);
	if (!rc)
		*entries = xcalloc(*n, kind->entry_size);
	for (; !rc && e; e = ams_json_sibling(e), i++) {
		rc = kind->parse_entry((char *)*entries + i * kind->entry_size,
				       e, err);
		if (rc)
			ams_err_prefix(err, "%s[%zu]", kind->member, i);
	}
	if (!rc)
		rc = get_next_token(next_token, root, err);
	ams_json_free(doc);
	if (rc)
		ams_err_prefix(err, "%s response", kind->action);
	return rc;
}

void ams_orgs_units_release(struct ams_orgs_units *units)
{
	size_t i;

	for (i = 0; i < units->n; i++) {
		free(units->v[i].id);
		free(units->v[i].arn);
		free(units->v[i].name);
	}
	free(units->v);
	free(units->next_token);
	memset(units, 0, sizeof(*units));
}

static enum ams_code parse_unit(void *entry, const struct ams_json_val *e,
				struct ams_err *err)
{
	struct ams_orgs_unit *u = entry;
	enum ams_code rc;

	rc = ams_json_get_str(&u->id, e, "Id", err);
	if (!rc)
		rc = ams_json_get_str_opt(&u->arn, e, "Arn", err);
	if (!rc)
		rc = ams_json_get_str_opt(&u->name, e, "Name", err);
	return rc;
}

static enum ams_code parse_units(struct ams_orgs_units *out,
				 const struct page_kind *kind, const char *body,
				 size_t len, struct ams_err *err)
{
	void *entries;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = parse_page(&entries, &out->n, &out->next_token, kind, body, len,
			err);
	out->v = entries;
	if (rc)
		ams_orgs_units_release(out);
	return rc;
}

enum ams_code ams_orgs_parse_list_roots(struct ams_orgs_units *out,
					const char *body, size_t len,
					struct ams_err *err)
{
	static const struct page_kind kind = { AMS_ORGS_LIST_ROOTS, "Roots",
					       sizeof(struct ams_orgs_unit),
					       parse_unit };

	return parse_units(out, &kind, body, len, err);
}

enum ams_code ams_orgs_parse_list_ous_for_parent(struct ams_orgs_units *out,
						 const char *body, size_t len,
						 struct ams_err *err)
{
	static const struct page_kind kind = { AMS_ORGS_LIST_OUS_FOR_PARENT,
					       "OrganizationalUnits",
					       sizeof(struct ams_orgs_unit),
					       parse_unit };

	return parse_units(out, &kind, body, len, err);
}

void ams_orgs_children_release(struct ams_orgs_children *children)
{
	size_t i;

	for (i = 0; i < children->n; i++)
		free(children->v[i].id);
	free(children->v);
	free(children->next_token);
	memset(children, 0, sizeof(*children));
}

static enum ams_code parse_child(void *entry, const struct ams_json_val *e,
				 struct ams_err *err)
{
	struct ams_orgs_child *c = entry;
	const char *type = ams_json_str(ams_json_member(e, "Type"));
	enum ams_code rc;

	rc = ams_json_get_str(&c->id, e, "Id", err);
	if (rc)
		return rc;
	if (type && !strcmp(type, "ACCOUNT"))
		c->type = AMS_ORGS_CHILD_ACCOUNT;
	else if (type && !strcmp(type, "ORGANIZATIONAL_UNIT"))
		c->type = AMS_ORGS_CHILD_OU;
	else
		return ams_fail(err, AMS_EPARSE,
				"Type: expected ACCOUNT or "
				"ORGANIZATIONAL_UNIT, got '%.32s'",
				type ? type : "(none)");
	return AMS_OK;
}

enum ams_code ams_orgs_parse_list_children(struct ams_orgs_children *out,
					   const char *body, size_t len,
					   struct ams_err *err)
{
	static const struct page_kind kind = { AMS_ORGS_LIST_CHILDREN,
					       "Children",
					       sizeof(struct ams_orgs_child),
					       parse_child };
	void *entries;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = parse_page(&entries, &out->n, &out->next_token, &kind, body, len,
			err);
	out->v = entries;
	if (rc)
		ams_orgs_children_release(out);
	return rc;
}

void ams_orgs_accounts_release(struct ams_orgs_accounts *accounts)
{
	size_t i;

	for (i = 0; i < accounts->n; i++) {
		struct ams_orgs_account *a = &accounts->v[i];

		free(a->id);
		free(a->arn);
		free(a->name);
		free(a->email);
		free(a->state);
		free(a->status);
	}
	free(accounts->v);
	free(accounts->next_token);
	memset(accounts, 0, sizeof(*accounts));
}

static enum ams_code parse_account(void *entry, const struct ams_json_val *e,
				   struct ams_err *err)
{
	struct ams_orgs_account *a = entry;
	enum ams_code rc;

	rc = ams_json_get_str(&a->id, e, "Id", err);
	if (!rc)
		rc = ams_json_get_str_opt(&a->arn, e, "Arn", err);
	if (!rc)
		rc = ams_json_get_str_opt(&a->name, e, "Name", err);
	if (!rc)
		rc = ams_json_get_str_opt(&a->email, e, "Email", err);
	if (!rc)
		rc = ams_json_get_str_opt(&a->state, e, "State", err);
	if (!rc)
		rc = ams_json_get_str_opt(&a->status, e, "Status", err);
	if (rc)
		return rc;
	/* State replaces the retired Status; only ACTIVE accounts count. */
	if (a->state)
		a->active = !strcmp(a->state, "ACTIVE");
	else
		a->active = a->status && !strcmp(a->status, "ACTIVE");
	return AMS_OK;
}

enum ams_code ams_orgs_parse_list_accounts_for_parent(
    struct ams_orgs_accounts *out, const char *body, size_t len,
    struct ams_err *err)
{
	static const struct page_kind kind = {
		AMS_ORGS_LIST_ACCOUNTS_FOR_PARENT, "Accounts",
		sizeof(struct ams_orgs_account), parse_account
	};
	void *entries;
	enum ams_code rc;

	memset(out, 0, sizeof(*out));
	rc = parse_page(&entries, &out->n, &out->next_token, &kind, body, len,
			err);
	out->v = entries;
	if (rc)
		ams_orgs_accounts_release(out);
	return rc;
}
