/*
 * Unit tests for the in-toto statement: the document is parsed back and
 * every field checked by path; the region, AMI id and partition rules
 * are tables; the atomic write leaves a 0644 file and no temporary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "intoto.h"
#include "json.h"

static const struct {
	const char *region;
	bool valid;
	const char *partition;
} regions[] = {
	{ "us-east-1", true, "aws" },
	{ "eu-central-2", true, "aws" },
	{ "ap-southeast-4", true, "aws" },
	{ "il-central-1", true, "aws" },
	{ "cn-north-1", true, "aws-cn" },
	{ "cn-northwest-1", true, "aws-cn" },
	{ "us-gov-west-1", true, "aws-us-gov" },
	{ "us-iso-east-1", true, "aws-iso" },
	{ "us-isob-east-1", true, "aws-iso-b" },
	{ "eu-isoe-west-1", true, "aws-iso-e" },
	{ "us-isof-south-1", true, "aws-iso-f" },
	{ "us-east", false, NULL },
	{ "US-EAST-1", false, NULL },
	{ "useast-1", false, NULL },
	{ "us--1", false, NULL },
	{ "us-east-1a", false, NULL },
	{ "us-east-1 ", false, NULL },
	{ "", false, NULL },
	{ "u-east-1", false, NULL },
};

static void test_regions(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(regions); i++) {
		TEST_BEGIN();
		CHECK_INT_EQ(regions[i].valid,
			     ams_intoto_region_valid(regions[i].region));
		if (regions[i].partition)
			CHECK_STR_EQ(regions[i].partition,
				     ams_intoto_partition(regions[i].region));
		TEST_END("region '%s'", regions[i].region);
	}
}

static const struct {
	const char *id;
	bool valid;
} amis[] = {
	{ "ami-12345678", true },
	{ "ami-0123456789abcdef0", true },
	{ "ami-0123456789ABCDEF0", false },
	{ "ami-1234567", false },
	{ "ami-123456789", false },
	{ "ami-0123456789abcdef01", false },
	{ "ami-1234567g", false },
	{ "snap-12345678", false },
	{ "AMI-12345678", false },
	{ "ami-", false },
	{ "", false },
};

static void test_ami_ids(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(amis); i++) {
		TEST_BEGIN();
		CHECK_INT_EQ(amis[i].valid,
			     ams_intoto_ami_id_valid(amis[i].id));
		TEST_END("AMI id '%s'", amis[i].id);
	}
}

static char region_a[] = "us-east-1", region_b[] = "cn-north-1",
	    ami_a[] = "ami-0123456789abcdef0", ami_b[] = "ami-12345678",
	    ami_c[] = "ami-0fedcba9876543210", origin[] = "manifest",
	    build[] = "golden";

static struct ams_image_ref images[] = {
	{ region_a, ami_a, origin, build },
	{ region_b, ami_b, origin, NULL },
	{ region_a, ami_c, origin, build },
	{ region_a, ami_a, origin, build }, /* duplicate: one subject */
};

static void fill(struct ams_provenance *p)
{
	ams_provenance_init(p);
	p->git.state = AMS_GIT_OK;
	p->git.root = xstrdup("/src/repo");
	p->git.commit = xstrdup("0123456789ABCDEF0123456789abcdef01234567");
	p->git.short_commit = xstrdup("0123456");
	p->git.commit_time = xstrdup("2015-08-30T12:36:00Z");
	p->git.subject = xstrdup("Bump \xff base");
	p->git.branch = xstrdup("main");
	p->git.tag = xstrdup("v1.2");
	p->git.tag_distance = 3;
	p->git.remote_url = xstrdup("git@github.com:org/repo.git");
	p->git.dirty = AMS_GIT_DIRTY;
	p->ci.system = AMS_CI_GITHUB;
	p->ci.system_name = xstrdup("github-actions");
	p->ci.commit = xstrdup("1111111111111111111111111111111111111111");
	p->ci.commit_var = "GITHUB_SHA";
	p->ci.run_id = xstrdup("42");
	p->ci.builder_id = xstrdup("https://github.com/org/repo/.github/"
				   "workflows/ami.yml@refs/heads/main");
	p->ci.invocation_id =
	    xstrdup("https://github.com/org/repo/actions/runs/42/attempts/1");
	p->packer.name = xstrdup("golden");
	p->packer.builder_type = xstrdup("amazon-ebs");
	p->packer.run_uuid = xstrdup("6f1c2c52-0000-4000-8000-000000000001");
	p->packer.custom_data = xcalloc(1, sizeof(*p->packer.custom_data));
	p->packer.custom_data[0].key = xstrdup("team");
	p->packer.custom_data[0].value = xstrdup("platform");
	p->packer.nr_custom_data = 1;
	ams_provenance_resolve(p);
}

static struct ams_json *statement(const struct ams_provenance *p,
				  const struct ams_intoto_opts *o)
{
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_json *doc = NULL;

	CHECK_RC(AMS_OK, ams_intoto_statement(&sb, p, o, &err), &err);
	CHECK(sb.len > 0 && sb.buf[sb.len - 1] == '\n');
	CHECK_RC(AMS_OK, ams_json_parse(&doc, sb.buf, sb.len, &err), &err);
	ams_buf_release(&sb);
	return doc;
}

static const char *str_at(const struct ams_json *doc, const char *path)
{
	return ams_json_str(ams_json_at(ams_json_root(doc), path));
}

#define CHECK_AT(doc, path, want) CHECK_STR_EQ(want, str_at(doc, path))

static void test_statement_fields(void)
{
	struct ams_provenance p;
	struct ams_intoto_opts o;
	struct ams_json *doc;
	const struct ams_json_val *root;

	fill(&p);
	memset(&o, 0, sizeof(o));
	o.images = images;
	o.nr_images = ARRAY_SIZE(images);
	o.started_on = 1440938160;
	o.finished_on = 1440938220;
	doc = statement(&p, &o);
	if (!doc)
		goto out;
	root = ams_json_root(doc);
	CHECK_AT(doc, "_type", "https://in-toto.io/Statement/v1");
	CHECK_AT(doc, "predicateType", "https://slsa.dev/provenance/v1");
	CHECK_INT_EQ(3, ams_json_size(ams_json_at(root, "subject")));
	CHECK_AT(doc, "subject[0].name",
		 "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0");
	CHECK_AT(doc, "subject[0].digest.amiId", "ami-0123456789abcdef0");
	CHECK_AT(doc, "subject[0].annotations.region", "us-east-1");
	CHECK_AT(doc, "subject[0].annotations.partition", "aws");
	CHECK_AT(doc, "subject[0].annotations.buildName", "golden");
	CHECK_AT(doc, "subject[1].name",
		 "arn:aws-cn:ec2:cn-north-1::image/ami-12345678");
	CHECK_AT(doc, "subject[1].annotations.partition", "aws-cn");
	CHECK(ams_json_at(root, "subject[1].annotations.buildName") == NULL);
	CHECK_AT(doc, "subject[2].digest.amiId", "ami-0fedcba9876543210");
	CHECK_AT(doc, "predicate.buildDefinition.buildType",
		 AMS_INTOTO_BUILD_TYPE);
	CHECK_AT(doc,
		 "predicate.buildDefinition.externalParameters.source."
		 "repository",
		 "git@github.com:org/repo.git");
	CHECK_AT(doc, "predicate.buildDefinition.externalParameters.source.ref",
		 "refs/heads/main");
	CHECK_AT(doc,
		 "predicate.buildDefinition.externalParameters.packer."
		 "buildName",
		 "golden");
	CHECK_INT_EQ(
	    2, ams_json_size(ams_json_at(root, "predicate.buildDefinition."
					       "externalParameters.regions")));
	CHECK_AT(doc, "predicate.buildDefinition.externalParameters.regions[1]",
		 "cn-north-1");
	CHECK_AT(doc, "predicate.buildDefinition.internalParameters.git.dirty",
		 "dirty");
	CHECK_AT(doc, "predicate.buildDefinition.internalParameters.git.tag",
		 "v1.2");
	CHECK_AT(doc,
		 "predicate.buildDefinition.internalParameters.git.subject",
		 "Bump \xef\xbf\xbd base");
	CHECK_AT(doc, "predicate.buildDefinition.internalParameters.ci.system",
		 "github-actions");
	CHECK_AT(doc,
		 "predicate.buildDefinition.internalParameters.packer."
		 "customData.team",
		 "platform");
	CHECK(strstr(str_at(doc, "predicate.buildDefinition."
				 "internalParameters.warnings[0]"),
		     "GITHUB_SHA") != NULL);
	CHECK_AT(doc, "predicate.buildDefinition.resolvedDependencies[0].uri",
		 "git+ssh://git@github.com/org/repo.git@refs/heads/main");
	CHECK_AT(doc,
		 "predicate.buildDefinition.resolvedDependencies[0].digest."
		 "gitCommit",
		 "0123456789abcdef0123456789abcdef01234567");
	CHECK_AT(doc, "predicate.runDetails.builder.id",
		 "https://github.com/org/repo/.github/workflows/ami.yml@"
		 "refs/heads/main");
	CHECK_AT(doc, "predicate.runDetails.metadata.invocationId",
		 "https://github.com/org/repo/actions/runs/42/attempts/1");
	CHECK_AT(doc, "predicate.runDetails.metadata.startedOn",
		 "2015-08-30T12:36:00Z");
	CHECK_AT(doc, "predicate.runDetails.metadata.finishedOn",
		 "2015-08-30T12:37:00Z");
	ams_json_free(doc);
out:
	ams_provenance_release(&p);
}

static const struct {
	const char *remote;
	const char *root;
	const char *want;
} uris[] = {
	{ "https://github.com/o/r.git", "/w",
	  "git+https://github.com/o/r.git@refs/heads/main" },
	{ "git@github.com:o/r.git", "/w",
	  "git+ssh://git@github.com/o/r.git@refs/heads/main" },
	{ "git@host:/abs/r.git", "/w",
	  "git+ssh://git@host/abs/r.git@refs/heads/main" },
	{ "ssh://git@host:2222/r.git", "/w",
	  "git+ssh://git@host:2222/r.git@refs/heads/main" },
	{ "/srv/git/r.git", "/w", "git+file:///srv/git/r.git@refs/heads/main" },
	{ NULL, "/work/src", "git+file:///work/src@refs/heads/main" },
	{ NULL, NULL, NULL },
};

static void test_dependency_uris(void)
{
	struct ams_provenance p;
	struct ams_intoto_opts o;
	struct ams_json *doc;
	size_t i;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < ARRAY_SIZE(uris); i++) {
		TEST_BEGIN();
		ams_provenance_init(&p);
		p.git.state = AMS_GIT_OK;
		p.git.commit =
		    xstrdup("0123456789abcdef0123456789abcdef01234567");
		p.git.branch = xstrdup("main");
		p.git.remote_url =
		    uris[i].remote ? xstrdup(uris[i].remote) : NULL;
		p.git.root = uris[i].root ? xstrdup(uris[i].root) : NULL;
		ams_provenance_resolve(&p);
		doc = statement(&p, &o);
		if (uris[i].want)
			CHECK_AT(doc,
				 "predicate.buildDefinition."
				 "resolvedDependencies[0].uri",
				 uris[i].want);
		else
			CHECK(ams_json_at(ams_json_root(doc),
					  "predicate.buildDefinition."
					  "resolvedDependencies[0].uri") ==
			      NULL);
		CHECK_AT(doc,
			 "predicate.buildDefinition.resolvedDependencies[0]."
			 "digest.gitCommit",
			 "0123456789abcdef0123456789abcdef01234567");
		ams_json_free(doc);
		ams_provenance_release(&p);
		TEST_END("dependency uri for '%s'",
			 uris[i].remote ? uris[i].remote : "(no remote)");
	}
}

/* No repository, no CI: a valid statement with the local builder. */
static void test_minimal_statement(void)
{
	struct ams_provenance p;
	struct ams_intoto_opts o;
	struct ams_json *doc;
	const struct ams_json_val *root;

	ams_provenance_init(&p);
	p.git.state = AMS_GIT_NO_REPO;
	p.git.reason = xstrdup("no git repository at or above '/x'");
	ams_provenance_resolve(&p);
	memset(&o, 0, sizeof(o));
	o.build_type = "https://example.com/custom-build/v2";
	o.pretty = true;
	doc = statement(&p, &o);
	root = ams_json_root(doc);
	CHECK_INT_EQ(AMS_JSON_ARRAY,
		     ams_json_type_of(ams_json_at(root, "subject")));
	CHECK_INT_EQ(0, ams_json_size(ams_json_at(root, "subject")));
	CHECK_AT(doc, "predicate.buildDefinition.buildType",
		 "https://example.com/custom-build/v2");
	CHECK_INT_EQ(
	    AMS_JSON_OBJECT,
	    ams_json_type_of(ams_json_at(
		root, "predicate.buildDefinition.externalParameters")));
	CHECK_AT(doc, "predicate.buildDefinition.internalParameters.git.state",
		 "no-repository");
	CHECK_AT(doc, "predicate.buildDefinition.internalParameters.git.reason",
		 "no git repository at or above '/x'");
	CHECK(ams_json_at(root, "predicate.buildDefinition."
				"internalParameters.git.dirty") == NULL);
	CHECK(ams_json_at(root, "predicate.buildDefinition."
				"resolvedDependencies") == NULL);
	CHECK(ams_json_at(root, "predicate.runDetails.metadata") == NULL);
	CHECK_AT(doc, "predicate.runDetails.builder.id",
		 AMS_INTOTO_LOCAL_BUILDER);
	ams_json_free(doc);
	ams_provenance_release(&p);
}

static void test_invalid_images(void)
{
	static char bad_region[] = "moon-1", bad_ami[] = "ami-XYZ",
		    where[] = "--ami";
	struct ams_image_ref bad[2] = { { region_a, bad_ami, where, NULL },
					{ bad_region, ami_a, where, NULL } };
	struct ams_provenance p;
	struct ams_intoto_opts o;
	struct ams_buf sb = AMS_BUF_INIT;
	struct ams_err err = AMS_ERR_INIT;

	ams_provenance_init(&p);
	memset(&o, 0, sizeof(o));
	o.images = &bad[0];
	o.nr_images = 1;
	CHECK_INT_EQ(AMS_EUSAGE, ams_intoto_statement(&sb, &p, &o, &err));
	CHECK_STR_EQ("--ami: invalid AMI id 'ami-XYZ'", err.msg);
	CHECK_INT_EQ(0, sb.len);
	ams_err_clear(&err);
	o.images = &bad[1];
	CHECK_INT_EQ(AMS_EUSAGE, ams_intoto_statement(&sb, &p, &o, &err));
	CHECK_STR_EQ("--ami: invalid region 'moon-1'", err.msg);
	ams_buf_release(&sb);
	ams_provenance_release(&p);
}

static void test_write_atomic(void)
{
	char dir[] = "/tmp/ams-t-intoto.XXXXXX";
	struct ams_provenance p;
	struct ams_intoto_opts o;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_buf want = AMS_BUF_INIT;
	char *path, *tmp, *got = NULL;
	struct stat st;
	FILE *f;
	long len;
	mode_t old;

	CHECK(mkdtemp(dir) != NULL);
	path = xasprintf("%s/provenance.json", dir);
	tmp = xasprintf("%s.tmp", path);
	fill(&p);
	memset(&o, 0, sizeof(o));
	o.images = images;
	o.nr_images = 1;
	old = umask(022);
	CHECK_RC(AMS_OK, ams_intoto_write(path, &p, &o, &err), &err);
	umask(old);
	CHECK_RC(AMS_OK, ams_intoto_statement(&want, &p, &o, &err), &err);
	CHECK(stat(path, &st) == 0);
	CHECK_INT_EQ(0644, st.st_mode & 0777);
	CHECK(access(tmp, F_OK) != 0);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		got = xcalloc(1, (size_t)len + 1);
		CHECK_INT_EQ(len, fread(got, 1, (size_t)len, f));
		fclose(f);
		CHECK_STR_EQ(want.buf, got);
	}
	CHECK(unlink(path) == 0);
	/* A directory that does not exist fails and creates nothing. */
	free(path);
	path = xasprintf("%s/missing/provenance.json", dir);
	CHECK(ams_intoto_write(path, &p, &o, &err) != AMS_OK);
	CHECK(rmdir(dir) == 0);
	free(got);
	free(path);
	free(tmp);
	ams_buf_release(&want);
	ams_provenance_release(&p);
}

int main(void)
{
	test_regions();
	test_ami_ids();
	TEST(test_statement_fields, "statement fields, parsed back");
	test_dependency_uris();
	TEST(test_minimal_statement, "no repository and no CI still valid");
	TEST(test_invalid_images, "invalid region or AMI id is a usage error");
	TEST(test_write_atomic, "atomic write: mode 0644, no temporary left");
	return test_done();
}
