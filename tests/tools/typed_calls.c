/*
 * typed_calls: runs one typed AWS call (ec2.h, sts.h, kms.h, ssm.h,
 * orgs.h) through the real stack (request builder, signed aws call, HTTP
 * engine, pure parser) and prints what the parser returned, one line per
 * item, so the t2xxx scenarios can prove the builders against a strict
 * server and not only against fixtures.
 *
 * usage: typed_calls [--region R] [--assume ROLE_ARN [--external-id X]]
 *                    COMMAND ARGS...
 *
 * Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN, endpoints from AWS_ENDPOINT_URL[_<SERVICE>]. With
 * --assume the tool first calls AssumeRole (typed) and then runs COMMAND
 * with the role's credentials. Paginated commands follow every page,
 * asking for small pages so that pagination really happens.
 *
 *	caller                          caller <account> <arn>
 *	images [--id AMI]... [--owner O]... [--exec-by X]...
 *	       [--filter NAME=V[,V]...]... [--deprecated]
 *	                                image <id> <state> owner=<o> name=<n>
 *	                                  public=<0|1> snap=<first|-> kms=<k|->
 *	                                  deprecated=<epoch|0> tags=<k=v,..>
 *	                                pages <n>
 *	image-perms AMI                 perm <userId|group|...> <value>
 *	share AMI [--dry-run] [+|-]<user|group|org|ou>:VALUE...
 *	                                ok | dry-run ok
 *	reset AMI                       ok
 *	deprecate AMI ISO8601           ok
 *	tag RESOURCE K=V...             ok
 *	untag RESOURCE KEY[=V]...       ok
 *	tags RESOURCE                   tag <type> <key>=<value>; pages <n>
 *	snapshots SNAP...               snapshot <id> <state> encrypted=<0|1>
 *	snap-perms SNAP                 perm <kind> <value>
 *	snap-share SNAP [-]ACCOUNT...   ok
 *	org                             org <id> <mgmt account> <arn>
 *	roots                           root <id> <name>
 *	children PARENT ou|account      child <ou|account> <id>; pages <n>
 *	accounts PARENT                 account <id> active=<0|1> <state>
 *	ous PARENT                      ou <id> <arn>
 *	put-param NAME VALUE [--image] [--overwrite] [--tag K=V]...
 *	                                version <n>
 *	get-param NAME                  param <name> <value> v<n> <data type>
 *	del-param NAME                  ok
 *	describe-key KEY                key <id> <manager> <state> <account>
 *	grant KEY GRANTEE OP[,OP]... [NAME]
 *	                                grant <id>
 *	grants KEY                      grant <id> <grantee> <op,op,...>
 *	revoke KEY GRANT_ID             ok
 *
 * Failures print "typed_calls: error: <aws code|code name>: <message>"
 * on stderr and exit 1 (2 for usage errors).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "buf.h"
#include "clock.h"
#include "ec2.h"
#include "endpoint.h"
#include "http.h"
#include "kms.h"
#include "log.h"
#include "orgs.h"
#include "sigv4.h"
#include "ssm.h"
#include "sts.h"
#include "tags.h"
#include "xmem.h"

#define MAX_ITEMS 64

struct tool {
	const char *region;
	struct ams_http *http;
	struct ams_aws *aws;
	struct ams_identity *id;
	struct ams_err err;
};

/* One finished call: its error and a copy of its body. */
struct outcome {
	struct ams_err err;
	struct ams_buf body;
	int done;
};

static int usage(void)
{
	fprintf(stderr, "usage: typed_calls [--region R] [--assume ROLE_ARN "
			"[--external-id X]] COMMAND ARGS...\n");
	return 2;
}

static int fail(const struct ams_err *err)
{
	fprintf(stderr, "typed_calls: error: %s: %s\n",
		err->aws_code[0] ? err->aws_code : ams_code_name(err->code),
		err->msg);
	return 1;
}

static void on_done(const struct ams_aws_result *res, void *payload)
{
	struct outcome *o = payload;

	o->done = 1;
	ams_err_copy(&o->err, res->err);
	ams_buf_add(&o->body, res->body, res->body_len);
}

static struct ams_aws_call *new_call(struct tool *t, enum ams_service svc,
				     const char *action)
{
	return ams_aws_call_new(t->aws, svc, t->region, action, t->id);
}

/* Submits call, runs the engine dry; AMS_OK when AWS answered 2xx. */
static enum ams_code perform(struct tool *t, struct ams_aws_call *call,
			     struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	ams_buf_init(&o->body, 0);
	ams_aws_call_submit(call, on_done, o);
	if (ams_http_run(t->http, &t->err))
		return t->err.code;
	if (!o->done)
		return ams_fail(&t->err, AMS_EHTTP, "the call never finished");
	ams_err_copy(&t->err, &o->err);
	return o->err.code;
}

static int setup(struct tool *t)
{
	struct ams_endpoint_config ep;
	struct ams_creds c = AMS_CREDS_INIT;
	struct ams_http_opts hopts;
	enum ams_code rc;

	ams_http_opts_init(&hopts);
	hopts.max_attempts = 1;
	rc = ams_http_new(&t->http, &hopts, &t->err);
	ams_endpoint_config_init(&ep);
	if (!rc)
		rc = ams_endpoint_config_from_env(&ep, &t->err);
	if (!rc)
		rc = ams_aws_new(&t->aws, t->http, &ep, NULL, &t->err);
	ams_endpoint_config_release(&ep);
	if (!rc)
		rc = ams_creds_set(&c, getenv("AWS_ACCESS_KEY_ID"),
				   getenv("AWS_SECRET_ACCESS_KEY"),
				   getenv("AWS_SESSION_TOKEN"), 0, NULL,
				   &t->err);
	if (rc)
		return fail(&t->err);
	t->id = ams_identity_new("typed_calls");
	ams_identity_set_creds(t->id, &c);
	ams_creds_release(&c);
	return 0;
}

/* ---- STS --------------------------------------------------------------- */

static int assume(struct tool *t, const char *role_arn, const char *ext)
{
	struct ams_sts_assume_role_req req = { 0 };
	struct ams_sts_session s;
	struct ams_aws_call *call;
	struct outcome o;
	enum ams_code rc;

	req.role_arn = role_arn;
	req.session_name = "typed-calls";
	req.external_id = ext;
	req.duration_s = 900;
	call = new_call(t, AMS_SVC_STS, AMS_STS_ASSUME_ROLE);
	rc = ams_sts_build_assume_role(&req, ams_sts_call_param, call, &t->err);
	if (rc) {
		ams_aws_call_discard(call);
		return fail(&t->err);
	}
	rc = perform(t, call, &o);
	if (!rc)
		rc = ams_sts_parse_assume_role(&s, o.body.buf, o.body.len,
					       &t->err);
	ams_buf_release_secure(&o.body);
	if (rc)
		return fail(&t->err);
	ams_identity_set_creds(t->id, &s.creds);
	ams_sts_session_release(&s);
	return 0;
}

static int cmd_caller(struct tool *t, int argc, char **argv)
{
	struct ams_sts_caller c;
	struct outcome o;
	enum ams_code rc;

	(void)argv;
	if (argc)
		return usage();
	rc = perform(t, new_call(t, AMS_SVC_STS, AMS_STS_GET_CALLER_IDENTITY),
		     &o);
	if (!rc)
		rc = ams_sts_parse_get_caller_identity(&c, o.body.buf,
						       o.body.len, &t->err);
	ams_buf_release(&o.body);
	if (rc)
		return fail(&t->err);
	printf("caller %s %s\n", c.account, c.arn ? c.arn : "-");
	ams_sts_caller_release(&c);
	return 0;
}

/* ---- EC2 --------------------------------------------------------------- */

/*
 * Sends a call whose parameters built added (built is the builder's
 * result) and checks <return>true</return>.
 */
static int void_call(struct tool *t, const char *action, enum ams_code built,
		     struct ams_aws_call *call, bool dry_run)
{
	struct outcome o;
	enum ams_code rc = built;

	if (rc) {
		ams_aws_call_discard(call);
		return fail(&t->err);
	}
	rc = perform(t, call, &o);
	if (dry_run && ams_ec2_dry_run_ok(&o.err)) {
		ams_buf_release(&o.body);
		printf("dry-run ok\n");
		return 0;
	}
	if (!rc)
		rc = ams_ec2_parse_return(action, o.body.buf, o.body.len,
					  &t->err);
	ams_buf_release(&o.body);
	if (rc)
		return fail(&t->err);
	printf("ok\n");
	return 0;
}

static void print_tags(const struct ams_tags *tags)
{
	struct ams_tags sorted = AMS_TAGS_INIT;
	size_t i;

	ams_tags_copy(&sorted, tags);
	ams_tags_sort(&sorted);
	for (i = 0; i < sorted.n; i++)
		printf("%s%s=%s", i ? "," : "", sorted.v[i].key,
		       sorted.v[i].value);
	ams_tags_release(&sorted);
}

static void print_image(const struct ams_ec2_image *img)
{
	const char *kms = "-", *snap = "-";
	size_t i;

	for (i = 0; i < img->ndevices; i++) {
		if (!img->devices[i].has_ebs)
			continue;
		if (img->devices[i].ebs.kms_key_id)
			kms = img->devices[i].ebs.kms_key_id;
		if (img->devices[i].ebs.snapshot_id && !strcmp(snap, "-"))
			snap = img->devices[i].ebs.snapshot_id;
	}
	printf("image %s %s owner=%s name=%s public=%d snap=%s kms=%s "
	       "deprecated=%ld tags=",
	       img->image_id, img->state ? img->state : "-",
	       img->owner_id ? img->owner_id : "-", img->name ? img->name : "-",
	       img->is_public, snap, kms, (long)img->deprecation_time);
	print_tags(&img->tags);
	printf("\n");
}

static int cmd_images(struct tool *t, int argc, char **argv)
{
	const char *ids[MAX_ITEMS], *owners[MAX_ITEMS], *exec[MAX_ITEMS];
	struct ams_ec2_filter filters[MAX_ITEMS];
	char *fvalues[MAX_ITEMS][MAX_ITEMS];
	char *ftext[MAX_ITEMS];
	struct ams_ec2_describe_images_req req = { 0 };
	char *token = NULL;
	size_t nf = 0, pages = 0, i;
	int status = 0;

	req.image_ids = ids;
	req.owners = owners;
	req.executable_by = exec;
	req.filters = filters;
	for (i = 0; i < (size_t)argc; i++) {
		const char *opt = argv[i],
			   *val = i + 1 < (size_t)argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--deprecated")) {
			req.include_deprecated = true;
			continue;
		}
		if (!val || req.nimage_ids >= MAX_ITEMS || nf >= MAX_ITEMS)
			return usage();
		i++;
		if (!strcmp(opt, "--id")) {
			ids[req.nimage_ids++] = val;
		} else if (!strcmp(opt, "--owner")) {
			owners[req.nowners++] = val;
		} else if (!strcmp(opt, "--exec-by")) {
			exec[req.nexecutable_by++] = val;
		} else if (!strcmp(opt, "--filter") && strchr(val, '=')) {
			struct ams_str rest;
			size_t nv = 0;

			ftext[nf] = xstrdup(val);
			*strchr(ftext[nf], '=') = '\0';
			rest = ams_str_from(strchr(val, '=') + 1);
			while (rest.ptr && nv < MAX_ITEMS)
				fvalues[nf][nv++] =
				    ams_str_dup(ams_str_split(&rest, ','));
			filters[nf].name = ftext[nf];
			filters[nf].values = (const char *const *)fvalues[nf];
			filters[nf].nvalues = nv;
			nf++;
		} else {
			return usage();
		}
	}
	req.nfilters = nf;
	/* Small pages, unless ids are given (AWS refuses both together). */
	if (!req.nimage_ids)
		req.max_results = 5;
	do {
		struct ams_ec2_images out;
		struct ams_aws_call *call;
		struct outcome o;
		enum ams_code rc;

		req.next_token = token;
		call = new_call(t, AMS_SVC_EC2, AMS_EC2_DESCRIBE_IMAGES);
		rc = ams_ec2_build_describe_images(&req, ams_ec2_call_param,
						   call, &t->err);
		if (rc) {
			ams_aws_call_discard(call);
		} else {
			rc = perform(t, call, &o);
			if (!rc)
				rc = ams_ec2_parse_describe_images(
				    &out, o.body.buf, o.body.len, &t->err);
			ams_buf_release(&o.body);
		}
		free(token);
		token = NULL;
		if (rc) {
			status = fail(&t->err);
			break;
		}
		pages++;
		for (i = 0; i < out.n; i++)
			print_image(&out.v[i]);
		token = out.next_token ? xstrdup(out.next_token) : NULL;
		ams_ec2_images_release(&out);
	} while (token && pages < 1000);
	if (!status)
		printf("pages %zu\n", pages);
	free(token);
	for (i = 0; i < nf; i++) {
		size_t j;

		for (j = 0; j < filters[i].nvalues; j++)
			free(fvalues[i][j]);
		free(ftext[i]);
	}
	return status;
}

static void print_perms(const struct ams_ec2_perms *perms)
{
	size_t i;

	for (i = 0; i < perms->n; i++)
		printf("perm %s %s\n", ams_ec2_perm_kind_name(perms->v[i].kind),
		       perms->v[i].value);
}

static int cmd_image_perms(struct tool *t, int argc, char **argv)
{
	struct ams_ec2_image_attribute attr;
	struct ams_aws_call *call;
	struct outcome o;
	enum ams_code rc;

	if (argc != 1)
		return usage();
	call = new_call(t, AMS_SVC_EC2, AMS_EC2_DESCRIBE_IMAGE_ATTRIBUTE);
	rc = ams_ec2_build_describe_image_attribute(argv[0], "launchPermission",
						    false, ams_ec2_call_param,
						    call, &t->err);
	if (rc) {
		ams_aws_call_discard(call);
		return fail(&t->err);
	}
	rc = perform(t, call, &o);
	if (!rc)
		rc = ams_ec2_parse_describe_image_attribute(
		    &attr, o.body.buf, o.body.len, &t->err);
	ams_buf_release(&o.body);
	if (rc)
		return fail(&t->err);
	print_perms(&attr.launch_permissions);
	ams_ec2_image_attribute_release(&attr);
	return 0;
}

/* "[+|-]kind:value" into *p; returns -1 for remove, 1 for add, 0 bad. */
static int parse_grantee(struct ams_ec2_perm *p, char *arg)
{
	static const struct {
		const char *prefix;
		enum ams_ec2_perm_kind kind;
	} kinds[] = {
		{ "user:", AMS_EC2_PERM_USER },
		{ "group:", AMS_EC2_PERM_GROUP },
		{ "org:", AMS_EC2_PERM_ORG },
		{ "ou:", AMS_EC2_PERM_OU },
	};
	int sign = 1;
	size_t i;

	if (*arg == '-' || *arg == '+')
		sign = *arg++ == '-' ? -1 : 1;
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strncmp(arg, kinds[i].prefix, strlen(kinds[i].prefix))) {
			p->kind = kinds[i].kind;
			p->value = arg + strlen(kinds[i].prefix);
			return sign;
		}
	return 0;
}

static int cmd_share(struct tool *t, int argc, char **argv)
{
	struct ams_ec2_perm add[MAX_ITEMS], rm[MAX_ITEMS], p;
	struct ams_ec2_modify_image_req req = { 0 };
	struct ams_aws_call *call;
	int i, sign;

	if (argc < 2)
		return usage();
	req.image_id = argv[0];
	req.add = add;
	req.remove = rm;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run")) {
			req.dry_run = true;
			continue;
		}
		sign = parse_grantee(&p, argv[i]);
		if (!sign || req.nadd >= MAX_ITEMS || req.nremove >= MAX_ITEMS)
			return usage();
		if (sign > 0)
			add[req.nadd++] = p;
		else
			rm[req.nremove++] = p;
	}
	call = new_call(t, AMS_SVC_EC2, AMS_EC2_MODIFY_IMAGE_ATTRIBUTE);
	return void_call(t, AMS_EC2_MODIFY_IMAGE_ATTRIBUTE,
			 ams_ec2_build_modify_image_attribute(
			     &req, ams_ec2_call_param, call, &t->err),
			 call, req.dry_run);
}

static int cmd_reset(struct tool *t, int argc, char **argv)
{
	struct ams_aws_call *call;

	if (argc != 1)
		return usage();
	call = new_call(t, AMS_SVC_EC2, AMS_EC2_RESET_IMAGE_ATTRIBUTE);
	return void_call(t, AMS_EC2_RESET_IMAGE_ATTRIBUTE,
			 ams_ec2_build_reset_image_attribute(
			     argv[0], false, ams_ec2_call_param, call, &t->err),
			 call, false);
}

static int cmd_deprecate(struct tool *t, int argc, char **argv)
{
	struct ams_aws_call *call;
	time_t when;

	if (argc != 2 || !ams_clock_parse_iso8601(argv[1], &when))
		return usage();
	call = new_call(t, AMS_SVC_EC2, AMS_EC2_ENABLE_IMAGE_DEPRECATION);
	return void_call(
	    t, AMS_EC2_ENABLE_IMAGE_DEPRECATION,
	    ams_ec2_build_enable_image_deprecation(
		argv[0], when, false, ams_ec2_call_param, call, &t->err),
	    call, false);
}

/* K=V (or K alone when values are optional) into tags[]. */
static size_t parse_tags(struct ams_tag *tags, int argc, char **argv,
			 bool value_required)
{
	size_t n = 0;
	int i;

	for (i = 0; i < argc && n < MAX_ITEMS; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq && value_required)
			return 0;
		tags[n].key = argv[i];
		tags[n].value = eq ? eq + 1 : NULL;
		if (eq)
			*eq = '\0';
		n++;
	}
	return n;
}

static int cmd_tag(struct tool *t, int argc, char **argv, bool create)
{
	struct ams_tag tags[MAX_ITEMS];
	const char *ids[1];
	const char *action = create ? AMS_EC2_CREATE_TAGS : AMS_EC2_DELETE_TAGS;
	struct ams_aws_call *call;
	size_t n;

	if (argc < (create ? 2 : 1))
		return usage();
	ids[0] = argv[0];
	n = parse_tags(tags, argc - 1, argv + 1, create);
	if (create && !n)
		return usage();
	call = new_call(t, AMS_SVC_EC2, action);
	return void_call(
	    t, action,
	    create
		? ams_ec2_build_create_tags(ids, 1, tags, n, false,
					    ams_ec2_call_param, call, &t->err)
		: ams_ec2_build_delete_tags(ids, 1, tags, n, false,
					    ams_ec2_call_param, call, &t->err),
	    call, false);
}

static int cmd_tags(struct tool *t, int argc, char **argv)
{
	const char *res[1];
	struct ams_ec2_filter filter = { "resource-id", res, 1 };
	struct ams_ec2_describe_tags_req req = { 0 };
	char *token = NULL;
	size_t pages = 0, i;
	int status = 0;

	if (argc != 1)
		return usage();
	res[0] = argv[0];
	req.filters = &filter;
	req.nfilters = 1;
	req.max_results = AMS_EC2_DESCRIBE_TAGS_MIN_RESULTS;
	do {
		struct ams_ec2_resource_tags out;
		struct ams_aws_call *call;
		struct outcome o;
		enum ams_code rc;

		req.next_token = token;
		call = new_call(t, AMS_SVC_EC2, AMS_EC2_DESCRIBE_TAGS);
		rc = ams_ec2_build_describe_tags(&req, ams_ec2_call_param, call,
						 &t->err);
		if (rc) {
			ams_aws_call_discard(call);
		} else {
			rc = perform(t, call, &o);
			if (!rc)
				rc = ams_ec2_parse_describe_tags(
				    &out, o.body.buf, o.body.len, &t->err);
			ams_buf_release(&o.body);
		}
		free(token);
		token = NULL;
		if (rc) {
			status = fail(&t->err);
			break;
		}
		pages++;
		for (i = 0; i < out.n; i++)
			printf("tag %s %s=%s\n",
			       out.v[i].resource_type ? out.v[i].resource_type
						      : "-",
			       out.v[i].key, out.v[i].value);
		token = out.next_token ? xstrdup(out.next_token) : NULL;
		ams_ec2_resource_tags_release(&out);
	} while (token && pages < 1000);
	if (!status)
		printf("pages %zu\n", pages);
	free(token);
	return status;
}

static int cmd_snapshots(struct tool *t, int argc, char **argv)
{
	struct ams_ec2_describe_snapshots_req req = { 0 };
	struct ams_ec2_snapshots out;
	struct ams_aws_call *call;
	struct outcome o;
	enum ams_code rc;
	size_t i;

	if (argc < 1)
		return usage();
	req.snapshot_ids = (const char *const *)argv;
	req.nsnapshot_ids = (size_t)argc;
	call = new_call(t, AMS_SVC_EC2, AMS_EC2_DESCRIBE_SNAPSHOTS);
	rc = ams_ec2_build_describe_snapshots(&req, ams_ec2_call_param, call,
					      &t->err);
	if (rc) {
		ams_aws_call_discard(call);
		return fail(&t->err);
	}
	rc = perform(t, call, &o);
	if (!rc)
		rc = ams_ec2_parse_describe_snapshots(&out, o.body.buf,
						      o.body.len, &t->err);
	ams_buf_release(&o.body);
	if (rc)
		return fail(&t->err);
	for (i = 0; i < out.n; i++)
		printf("snapshot %s %s encrypted=%d owner=%s\n",
		       out.v[i].snapshot_id,
		       out.v[i].state ? out.v[i].state : "-",
		       out.v[i].encrypted,
		       out.v[i].owner_id ? out.v[i].owner_id : "-");
	ams_ec2_snapshots_release(&out);
	return 0;
}

static int cmd_snap_perms(struct tool *t, int argc, char **argv)
{
	struct ams_ec2_snapshot_attribute attr;
	struct ams_aws_call *call;
	struct outcome o;
	enum ams_code rc;

	if (argc != 1)
		return usage();
	call = new_call(t, AMS_SVC_EC2, AMS_EC2_DESCRIBE_SNAPSHOT_ATTRIBUTE);
	rc = ams_ec2_build_describe_snapshot_attribute(
	    argv[0], false, ams_ec2_call_param, call, &t->err);
	if (rc) {
		ams_aws_call_discard(call);
		return fail(&t->err);
	}
	rc = perform(t, call, &o);
	if (!rc)
		rc = ams_ec2_parse_describe_snapshot_attribute(
		    &attr, o.body.buf, o.body.len, &t->err);
	ams_buf_release(&o.body);
	if (rc)
		return fail(&t->err);
	print_perms(&attr.create_volume_permissions);
	ams_ec2_snapshot_attribute_release(&attr);
	return 0;
}

static int cmd_snap_share(struct tool *t, int argc, char **argv)
{
	struct ams_ec2_perm add[MAX_ITEMS], rm[MAX_ITEMS];
	struct ams_ec2_modify_snapshot_req req = { 0 };
	struct ams_aws_call *call;
	int i;

	if (argc < 2)
		return usage();
	req.snapshot_id = argv[0];
	req.add = add;
	req.remove = rm;
	for (i = 1; i < argc && i <= MAX_ITEMS; i++) {
		struct ams_ec2_perm *p =
		    argv[i][0] == '-' ? &rm[req.nremove++] : &add[req.nadd++];

		p->kind = AMS_EC2_PERM_USER;
		p->value = argv[i] + (argv[i][0] == '-');
	}
	call = new_call(t, AMS_SVC_EC2, AMS_EC2_MODIFY_SNAPSHOT_ATTRIBUTE);
	return void_call(t, AMS_EC2_MODIFY_SNAPSHOT_ATTRIBUTE,
			 ams_ec2_build_modify_snapshot_attribute(
			     &req, ams_ec2_call_param, call, &t->err),
			 call, false);
}

/* ---- JSON services ----------------------------------------------------- */

/*
 * Sends a JSON call whose body build() already wrote into the call, and
 * leaves the answer in *o. Returns the exit status on failure, else -1.
 */
static int json_call(struct tool *t, struct ams_aws_call *call,
		     enum ams_code built, struct outcome *o)
{
	if (built) {
		ams_aws_call_discard(call);
		return fail(&t->err);
	}
	if (perform(t, call, o)) {
		ams_buf_release(&o->body);
		return fail(&t->err);
	}
	return -1;
}

static int cmd_org(struct tool *t, int argc, char **argv)
{
	struct ams_aws_call *call;
	struct ams_orgs_organization org;
	struct outcome o;
	int status;

	(void)argv;
	if (argc)
		return usage();
	call =
	    new_call(t, AMS_SVC_ORGANIZATIONS, AMS_ORGS_DESCRIBE_ORGANIZATION);
	status = json_call(t, call,
			   ams_orgs_build_describe_organization(
			       ams_aws_call_json(call), &t->err),
			   &o);
	if (status >= 0)
		return status;
	status = ams_orgs_parse_describe_organization(&org, o.body.buf,
						      o.body.len, &t->err);
	ams_buf_release(&o.body);
	if (status)
		return fail(&t->err);
	printf("org %s %s %s\n", org.id,
	       org.master_account_id ? org.master_account_id : "-",
	       org.arn ? org.arn : "-");
	ams_orgs_organization_release(&org);
	return 0;
}

static int cmd_roots(struct tool *t, int argc, char **argv)
{
	struct ams_aws_call *call;
	struct ams_orgs_units units;
	struct outcome o;
	int status;
	size_t i;

	(void)argv;
	if (argc)
		return usage();
	call = new_call(t, AMS_SVC_ORGANIZATIONS, AMS_ORGS_LIST_ROOTS);
	status = json_call(t, call,
			   ams_orgs_build_list_roots(ams_aws_call_json(call),
						     NULL, 0, &t->err),
			   &o);
	if (status >= 0)
		return status;
	status =
	    ams_orgs_parse_list_roots(&units, o.body.buf, o.body.len, &t->err);
	ams_buf_release(&o.body);
	if (status)
		return fail(&t->err);
	for (i = 0; i < units.n; i++)
		printf("root %s %s\n", units.v[i].id,
		       units.v[i].name ? units.v[i].name : "-");
	ams_orgs_units_release(&units);
	return 0;
}

enum org_list { LIST_CHILDREN, LIST_ACCOUNTS, LIST_OUS };

/* One page of an Organizations listing, printed; *token advances. */
static int org_page(struct tool *t, enum org_list what, const char *parent,
		    enum ams_orgs_child_type type, char **token)
{
	static const char *const actions[] = {
		AMS_ORGS_LIST_CHILDREN,
		AMS_ORGS_LIST_ACCOUNTS_FOR_PARENT,
		AMS_ORGS_LIST_OUS_FOR_PARENT,
	};
	struct ams_aws_call *call;
	struct ams_buf *body;
	struct outcome o;
	enum ams_code rc;
	int status;
	size_t i;

	call = new_call(t, AMS_SVC_ORGANIZATIONS, actions[what]);
	body = ams_aws_call_json(call);
	/* One entry per page: every listing crosses pages. */
	if (what == LIST_CHILDREN)
		rc = ams_orgs_build_list_children(body, parent, type, *token, 1,
						  &t->err);
	else if (what == LIST_ACCOUNTS)
		rc = ams_orgs_build_list_accounts_for_parent(
		    body, parent, *token, 1, &t->err);
	else
		rc = ams_orgs_build_list_ous_for_parent(body, parent, *token, 1,
							&t->err);
	free(*token);
	*token = NULL;
	status = json_call(t, call, rc, &o);
	if (status >= 0)
		return status;
	if (what == LIST_CHILDREN) {
		struct ams_orgs_children ch;

		rc = ams_orgs_parse_list_children(&ch, o.body.buf, o.body.len,
						  &t->err);
		for (i = 0; !rc && i < ch.n; i++)
			printf("child %s %s\n",
			       ch.v[i].type == AMS_ORGS_CHILD_OU ? "ou"
								 : "account",
			       ch.v[i].id);
		if (!rc && ch.next_token)
			*token = xstrdup(ch.next_token);
		if (!rc)
			ams_orgs_children_release(&ch);
	} else if (what == LIST_ACCOUNTS) {
		struct ams_orgs_accounts acc;

		rc = ams_orgs_parse_list_accounts_for_parent(
		    &acc, o.body.buf, o.body.len, &t->err);
		for (i = 0; !rc && i < acc.n; i++)
			printf("account %s active=%d %s\n", acc.v[i].id,
			       acc.v[i].active,
			       acc.v[i].state ? acc.v[i].state : "-");
		if (!rc && acc.next_token)
			*token = xstrdup(acc.next_token);
		if (!rc)
			ams_orgs_accounts_release(&acc);
	} else {
		struct ams_orgs_units units;

		rc = ams_orgs_parse_list_ous_for_parent(&units, o.body.buf,
							o.body.len, &t->err);
		for (i = 0; !rc && i < units.n; i++)
			printf("ou %s %s\n", units.v[i].id,
			       units.v[i].arn ? units.v[i].arn : "-");
		if (!rc && units.next_token)
			*token = xstrdup(units.next_token);
		if (!rc)
			ams_orgs_units_release(&units);
	}
	ams_buf_release(&o.body);
	return rc ? fail(&t->err) : -1;
}

static int cmd_org_list(struct tool *t, enum org_list what, int argc,
			char **argv)
{
	enum ams_orgs_child_type type = AMS_ORGS_CHILD_OU;
	char *token = NULL;
	size_t pages = 0;
	int status;

	if (argc != (what == LIST_CHILDREN ? 2 : 1))
		return usage();
	if (what == LIST_CHILDREN && !strcmp(argv[1], "account"))
		type = AMS_ORGS_CHILD_ACCOUNT;
	do {
		status = org_page(t, what, argv[0], type, &token);
		pages++;
	} while (status < 0 && token && pages < 1000);
	free(token);
	if (status >= 0)
		return status;
	printf("pages %zu\n", pages);
	return 0;
}

static int cmd_put_param(struct tool *t, int argc, char **argv)
{
	struct ams_ssm_put_parameter_req req = { 0 };
	struct ams_tag tags[MAX_ITEMS];
	struct ams_ssm_put_result r;
	struct ams_aws_call *call;
	struct outcome o;
	int i, status;

	if (argc < 2)
		return usage();
	req.name = argv[0];
	req.value = argv[1];
	req.type = "String";
	req.tags = tags;
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--image")) {
			req.data_type = AMS_SSM_DATA_TYPE_IMAGE;
		} else if (!strcmp(argv[i], "--overwrite")) {
			req.overwrite = true;
		} else if (!strcmp(argv[i], "--tag") && i + 1 < argc &&
			   req.ntags < MAX_ITEMS) {
			req.ntags +=
			    parse_tags(&tags[req.ntags], 1, &argv[++i], true);
		} else {
			return usage();
		}
	}
	call = new_call(t, AMS_SVC_SSM, AMS_SSM_PUT_PARAMETER);
	status = json_call(
	    t, call,
	    ams_ssm_build_put_parameter(ams_aws_call_json(call), &req, &t->err),
	    &o);
	if (status >= 0)
		return status;
	status =
	    ams_ssm_parse_put_parameter(&r, o.body.buf, o.body.len, &t->err);
	ams_buf_release(&o.body);
	if (status)
		return fail(&t->err);
	printf("version %llu\n", r.version);
	ams_ssm_put_result_release(&r);
	return 0;
}

static int cmd_get_param(struct tool *t, int argc, char **argv, bool del)
{
	struct ams_ssm_parameter p;
	struct ams_aws_call *call;
	struct outcome o;
	int status;

	if (argc != 1)
		return usage();
	call = new_call(t, AMS_SVC_SSM,
			del ? AMS_SSM_DELETE_PARAMETER : AMS_SSM_GET_PARAMETER);
	status = json_call(
	    t, call,
	    del ? ams_ssm_build_delete_parameter(ams_aws_call_json(call),
						 argv[0], &t->err)
		: ams_ssm_build_get_parameter(ams_aws_call_json(call), argv[0],
					      false, &t->err),
	    &o);
	if (status >= 0)
		return status;
	if (del) {
		ams_buf_release(&o.body);
		printf("ok\n");
		return 0;
	}
	status =
	    ams_ssm_parse_get_parameter(&p, o.body.buf, o.body.len, &t->err);
	ams_buf_release(&o.body);
	if (status)
		return fail(&t->err);
	printf("param %s %s v%llu %s\n", p.name, p.value, p.version,
	       p.data_type ? p.data_type : "-");
	ams_ssm_parameter_release(&p);
	return 0;
}

static int cmd_describe_key(struct tool *t, int argc, char **argv)
{
	struct ams_aws_call *call;
	struct ams_kms_key key;
	struct outcome o;
	int status;

	if (argc != 1)
		return usage();
	call = new_call(t, AMS_SVC_KMS, AMS_KMS_DESCRIBE_KEY);
	status = json_call(t, call,
			   ams_kms_build_describe_key(ams_aws_call_json(call),
						      argv[0], &t->err),
			   &o);
	if (status >= 0)
		return status;
	status =
	    ams_kms_parse_describe_key(&key, o.body.buf, o.body.len, &t->err);
	ams_buf_release(&o.body);
	if (status)
		return fail(&t->err);
	printf("key %s %s %s %s\n", key.key_id,
	       key.key_manager ? key.key_manager : "-",
	       key.key_state ? key.key_state : "-",
	       key.account_id ? key.account_id : "-");
	ams_kms_key_release(&key);
	return 0;
}

static int cmd_grant(struct tool *t, int argc, char **argv)
{
	struct ams_kms_create_grant_req req = { 0 };
	struct ams_kms_grant_created g;
	char *ops[MAX_ITEMS];
	struct ams_aws_call *call;
	struct ams_str rest;
	struct outcome o;
	size_t n = 0, i;
	int status;

	if (argc < 3 || argc > 4)
		return usage();
	rest = ams_str_from(argv[2]);
	while (rest.ptr && n < MAX_ITEMS)
		ops[n++] = ams_str_dup(ams_str_split(&rest, ','));
	req.key_id = argv[0];
	req.grantee_principal = argv[1];
	req.operations = (const char *const *)ops;
	req.noperations = n;
	req.name = argc == 4 ? argv[3] : NULL;
	call = new_call(t, AMS_SVC_KMS, AMS_KMS_CREATE_GRANT);
	status = json_call(
	    t, call,
	    ams_kms_build_create_grant(ams_aws_call_json(call), &req, &t->err),
	    &o);
	for (i = 0; i < n; i++)
		free(ops[i]);
	if (status >= 0)
		return status;
	status =
	    ams_kms_parse_create_grant(&g, o.body.buf, o.body.len, &t->err);
	ams_buf_release(&o.body);
	if (status)
		return fail(&t->err);
	printf("grant %s\n", g.grant_id);
	ams_kms_grant_created_release(&g);
	return 0;
}

static int cmd_grants(struct tool *t, int argc, char **argv)
{
	char *marker = NULL;
	size_t pages = 0, i, j;
	int status = -1;

	if (argc != 1)
		return usage();
	do {
		struct ams_aws_call *call;
		struct ams_kms_grants gs;
		struct outcome o;

		call = new_call(t, AMS_SVC_KMS, AMS_KMS_LIST_GRANTS);
		status = json_call(
		    t, call,
		    ams_kms_build_list_grants(ams_aws_call_json(call), argv[0],
					      marker, 1, &t->err),
		    &o);
		free(marker);
		marker = NULL;
		if (status >= 0)
			break;
		pages++;
		if (ams_kms_parse_list_grants(&gs, o.body.buf, o.body.len,
					      &t->err)) {
			ams_buf_release(&o.body);
			status = fail(&t->err);
			break;
		}
		ams_buf_release(&o.body);
		for (i = 0; i < gs.n; i++) {
			printf("grant %s %s ", gs.v[i].grant_id,
			       gs.v[i].grantee_principal);
			for (j = 0; j < gs.v[i].noperations; j++)
				printf("%s%s", j ? "," : "",
				       gs.v[i].operations[j]);
			printf("\n");
		}
		marker = gs.next_marker ? xstrdup(gs.next_marker) : NULL;
		ams_kms_grants_release(&gs);
	} while (marker && pages < 1000);
	free(marker);
	if (status >= 0)
		return status;
	printf("pages %zu\n", pages);
	return 0;
}

static int cmd_revoke(struct tool *t, int argc, char **argv)
{
	struct ams_aws_call *call;
	struct outcome o;
	int status;

	if (argc != 2)
		return usage();
	call = new_call(t, AMS_SVC_KMS, AMS_KMS_REVOKE_GRANT);
	status = json_call(t, call,
			   ams_kms_build_revoke_grant(ams_aws_call_json(call),
						      argv[0], argv[1], false,
						      &t->err),
			   &o);
	if (status >= 0)
		return status;
	ams_buf_release(&o.body);
	printf("ok\n");
	return 0;
}

static int dispatch(struct tool *t, const char *cmd, int argc, char **argv)
{
	if (!strcmp(cmd, "caller"))
		return cmd_caller(t, argc, argv);
	if (!strcmp(cmd, "images"))
		return cmd_images(t, argc, argv);
	if (!strcmp(cmd, "image-perms"))
		return cmd_image_perms(t, argc, argv);
	if (!strcmp(cmd, "share"))
		return cmd_share(t, argc, argv);
	if (!strcmp(cmd, "reset"))
		return cmd_reset(t, argc, argv);
	if (!strcmp(cmd, "deprecate"))
		return cmd_deprecate(t, argc, argv);
	if (!strcmp(cmd, "tag") || !strcmp(cmd, "untag"))
		return cmd_tag(t, argc, argv, !strcmp(cmd, "tag"));
	if (!strcmp(cmd, "tags"))
		return cmd_tags(t, argc, argv);
	if (!strcmp(cmd, "snapshots"))
		return cmd_snapshots(t, argc, argv);
	if (!strcmp(cmd, "snap-perms"))
		return cmd_snap_perms(t, argc, argv);
	if (!strcmp(cmd, "snap-share"))
		return cmd_snap_share(t, argc, argv);
	if (!strcmp(cmd, "org"))
		return cmd_org(t, argc, argv);
	if (!strcmp(cmd, "roots"))
		return cmd_roots(t, argc, argv);
	if (!strcmp(cmd, "children"))
		return cmd_org_list(t, LIST_CHILDREN, argc, argv);
	if (!strcmp(cmd, "accounts"))
		return cmd_org_list(t, LIST_ACCOUNTS, argc, argv);
	if (!strcmp(cmd, "ous"))
		return cmd_org_list(t, LIST_OUS, argc, argv);
	if (!strcmp(cmd, "put-param"))
		return cmd_put_param(t, argc, argv);
	if (!strcmp(cmd, "get-param") || !strcmp(cmd, "del-param"))
		return cmd_get_param(t, argc, argv, !strcmp(cmd, "del-param"));
	if (!strcmp(cmd, "describe-key"))
		return cmd_describe_key(t, argc, argv);
	if (!strcmp(cmd, "grant"))
		return cmd_grant(t, argc, argv);
	if (!strcmp(cmd, "grants"))
		return cmd_grants(t, argc, argv);
	if (!strcmp(cmd, "revoke"))
		return cmd_revoke(t, argc, argv);
	return usage();
}

int main(int argc, char **argv)
{
	struct tool t;
	const char *role = NULL, *ext = NULL;
	int i = 1, status;

	memset(&t, 0, sizeof(t));
	t.region = "us-east-1";
	while (i + 1 < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--region"))
			t.region = argv[i + 1];
		else if (!strcmp(argv[i], "--assume"))
			role = argv[i + 1];
		else if (!strcmp(argv[i], "--external-id"))
			ext = argv[i + 1];
		else
			return usage();
		i += 2;
	}
	if (i >= argc)
		return usage();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	status = setup(&t);
	if (!status && role)
		status = assume(&t, role, ext);
	if (!status)
		status = dispatch(&t, argv[i], argc - i - 1, argv + i + 1);
	ams_identity_free(t.id);
	ams_aws_free(t.aws);
	ams_http_free(t.http);
	ams_log_forget_secrets();
	curl_global_cleanup();
	return status;
}
