/*
 * The shared config file parser: a table of inputs with the tree each
 * must produce (dumped as text) or the error it must give, with its line
 * number; then the lookups and profile-name rules.
 */
#include "harness.h"

#include <stdio.h>
#include <unistd.h>

#include "buf.h"
#include "ini.h"

/* "[section]" lines, then "key=value" and " key.sub=value" lines. */
static char *dump(const struct ams_ini *ini)
{
	struct ams_buf sb = AMS_BUF_INIT;
	size_t i, j, k;

	for (i = 0; i < ini->nr_sections; i++) {
		const struct ams_ini_section *sec = &ini->sections[i];

		ams_buf_addf(&sb, "[%s]\n", sec->name);
		for (j = 0; j < sec->nr_props; j++) {
			const struct ams_ini_prop *p = &sec->props[j];

			ams_buf_addf(&sb, "%s=%s\n", p->key, p->value);
			for (k = 0; k < p->nr_subs; k++)
				ams_buf_addf(&sb, " %s.%s=%s\n", p->key,
					     p->subs[k].key, p->subs[k].value);
		}
	}
	return ams_buf_detach(&sb, NULL);
}

struct parse_case {
	const char *name;
	const char *input;
	const char *tree;  /* expected dump, or NULL when an error is due */
	const char *error; /* expected error message */
};

static const struct parse_case cases[] = {
	{ "empty file", "", "", NULL },
	{ "empty section", "[profile foo]", "[profile foo]\n", NULL },
	{ "property", "[default]\nregion = us-east-1\n",
	  "[default]\nregion=us-east-1\n", NULL },
	{ "crlf line ends", "[a]\r\nk = v\r\nk2=v2\r\n", "[a]\nk=v\nk2=v2\n",
	  NULL },
	{ "lone cr line ends", "[a]\rk = v\rk2=v2", "[a]\nk=v\nk2=v2\n", NULL },
	{ "byte order mark skipped", "\xef\xbb\xbf[a]\nk=v\n", "[a]\nk=v\n",
	  NULL },
	{ "keys and values trimmed", "[a]\nname \t=  \tvalue \t\n",
	  "[a]\nname=value\n", NULL },
	{ "keys lowercased", "[a]\nAWS_Access_Key_ID = AKIA\n",
	  "[a]\naws_access_key_id=AKIA\n", NULL },
	{ "equals in value", "[a]\nname = val=ue\n", "[a]\nname=val=ue\n",
	  NULL },
	{ "empty value", "[a]\nname =\n", "[a]\nname=\n", NULL },
	{ "utf-8 value", "[a]\nname = \xf0\x9f\x98\x82\n",
	  "[a]\nname=\xf0\x9f\x98\x82\n", NULL },
	{ "full-line comments", "# c\n; c\n[a]\n  # indented comment\nk=v\n",
	  "[a]\nk=v\n", NULL },
	{ "comment after header", "[a] # c\n[b]; c\n[c]#c\n", "[a]\n[b]\n[c]\n",
	  NULL },
	{ "comment after value needs white space",
	  "[a]\nx = v # c # d\ny = v ; c\nz = v#kept\nw = v;kept\n",
	  "[a]\nx=v\ny=v\nz=v#kept\nw=v;kept\n", NULL },
	{ "comment-only value", "[a]\nx = ;c\n", "[a]\nx=\n", NULL },
	{ "blank lines ignored", "\t \n[a]\n\t\n \nk = v\n\t \n[b]\n \t",
	  "[a]\nk=v\n[b]\n", NULL },
	{ "section name trimmed", "[ \tprofile \t foo \t]\n", "[profile foo]\n",
	  NULL },
	{ "tab after profile", "[profile\tfoo]\n", "[profile foo]\n", NULL },
	{ "duplicate sections merge", "[a]\nx=1\n[b]\n[a]\ny=2\n",
	  "[a]\nx=1\ny=2\n[b]\n", NULL },
	{ "differently spaced duplicates merge",
	  "[profile  a]\nx=1\n[profile a]\ny=2\n", "[profile a]\nx=1\ny=2\n",
	  NULL },
	{ "last duplicate property wins", "[a]\nk=1\nK=2\n", "[a]\nk=2\n",
	  NULL },
	{ "duplicate across duplicate sections", "[a]\nk=1\n[a]\nk=2\n",
	  "[a]\nk=2\n", NULL },
	{ "continuation lines", "[a]\nk = v\n -c1 \n\t-c2 # kept\n",
	  "[a]\nk=v\n-c1\n-c2 # kept\n", NULL },
	{ "sub-properties",
	  "[services x]\nec2 =\n  endpoint_url = http://e:1\n"
	  "  Other = 2\n\n  third =\nsts =\n endpoint_url = http://s\n",
	  "[services x]\nec2=\n ec2.endpoint_url=http://e:1\n"
	  " ec2.other=2\n ec2.third=\nsts=\n sts.endpoint_url=http://s\n",
	  NULL },
	{ "sub-property with comment line", "[a]\ns3 =\n # c\n k = v\n",
	  "[a]\ns3=\n s3.k=v\n", NULL },
	{ "redefined block replaces its subs", "[a]\ns3 =\n k = 1\ns3 = flat\n",
	  "[a]\ns3=flat\n", NULL },
	{ "property outside section", "k = v\n", NULL,
	  "'t.ini' line 1: property outside any section" },
	{ "unterminated header", "[a]\nk=v\n[profile foo\n", NULL,
	  "'t.ini' line 3: section header must end with ']'" },
	{ "text after header", "[a] b\n", NULL,
	  "'t.ini' line 1: unexpected text after the section header" },
	{ "empty header", "\n\n[ ]\n", NULL,
	  "'t.ini' line 3: empty section name" },
	{ "no equals sign", "[a]\nk=v\nkey : value\n", NULL,
	  "'t.ini' line 3: expected 'name = value'" },
	{ "no key", "[a]\n= value\n", NULL,
	  "'t.ini' line 2: property has no name" },
	{ "continuation outside section", " -continued\n", NULL,
	  "'t.ini' line 1: indented line outside any section" },
	{ "continuation without property", "[a]\n -continued\n", NULL,
	  "'t.ini' line 2: indented line continues no property" },
	{ "continuation reset by header", "[a]\nk=v\n[a]\n -c\n", NULL,
	  "'t.ini' line 4: indented line continues no property" },
	{ "sub-property without equals", "[a]\ns3 =\n invalid\n", NULL,
	  "'t.ini' line 3: expected 'name = value' in a sub-property" },
	{ "sub-property without name", "[a]\ns3 =\n = v\n", NULL,
	  "'t.ini' line 3: sub-property has no name" },
	{ "crlf line numbers", "[a]\r\nk=v\r\n\r\nbad\r\n", NULL,
	  "'t.ini' line 4: expected 'name = value'" },
};

static void test_parse_table(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct parse_case *c = &cases[i];
		struct ams_err err = AMS_ERR_INIT;
		struct ams_ini *ini = (struct ams_ini *)1;
		enum ams_code rc;
		char *tree;

		TEST_BEGIN();
		rc = ams_ini_parse(&ini, c->input, strlen(c->input), "t.ini",
				   &err);
		if (c->tree) {
			CHECK_RC(AMS_OK, rc, &err);
			CHECK(ini != NULL);
			if (ini) {
				tree = dump(ini);
				CHECK_STR_EQ(c->tree, tree);
				free(tree);
			}
		} else {
			CHECK_RC(AMS_EPARSE, rc, &err);
			CHECK(ini == NULL);
			if (strncmp(err.msg, c->error, strlen(c->error))) {
				CHECK_STR_EQ(c->error, err.msg);
			}
		}
		ams_ini_free(ini);
		TEST_END("parse: %s", c->name);
	}
}

static void test_nul_byte(void)
{
	static const char buf[] = "[a]\nk=v\nx\0y=1\n";
	struct ams_err err = AMS_ERR_INIT;
	struct ams_ini *ini;

	CHECK_RC(AMS_EPARSE,
		 ams_ini_parse(&ini, buf, sizeof(buf) - 1, "n.ini", &err),
		 &err);
	CHECK_STR_EQ("'n.ini' line 3: NUL byte (not a text file)", err.msg);
	CHECK(ini == NULL);
}

static void test_length_respected(void)
{
	/* Only the first len bytes count: "k=v" then garbage past len. */
	static const char buf[] = "[a]\nk=v\n[broken";
	struct ams_err err = AMS_ERR_INIT;
	struct ams_ini *ini;

	CHECK_RC(AMS_OK, ams_ini_parse(&ini, buf, 8, "l.ini", &err), &err);
	CHECK_STR_EQ("v", ams_ini_get(ams_ini_section(ini, "a"), "k"));
	ams_ini_free(ini);
}

static void test_lookups(void)
{
	static const char text[] =
	    "[default]\nregion = eu-west-1\n"
	    "[profile dev]\nregion = us-east-2\nS3 =\n  Max = 10\n"
	    "[profile default]\noutput = json\n"
	    "[services x]\nec2 =\n endpoint_url = http://127.0.0.1:1\n";
	struct ams_err err = AMS_ERR_INIT;
	struct ams_ini *ini;
	const struct ams_ini_section *sec;

	CHECK_RC(AMS_OK, ams_ini_parse(&ini, text, strlen(text), "c.ini", &err),
		 &err);
	sec = ams_ini_profile(ini, true, "dev");
	CHECK(sec != NULL);
	CHECK_STR_EQ("us-east-2", ams_ini_get(sec, "REGION"));
	CHECK_INT_EQ(4, ams_ini_prop(sec, "region")->line);
	CHECK_STR_EQ("10", ams_ini_get_sub(ams_ini_prop(sec, "s3"), "max"));
	CHECK(ams_ini_get_sub(ams_ini_prop(sec, "s3"), "min") == NULL);
	CHECK(ams_ini_get(sec, "output") == NULL);
	/* [profile default] wins over [default] in a config file. */
	sec = ams_ini_profile(ini, true, "default");
	CHECK_STR_EQ("json", ams_ini_get(sec, "output"));
	CHECK(ams_ini_get(sec, "region") == NULL);
	/* In a credentials file names are used as they are. */
	CHECK(ams_ini_profile(ini, false, "dev") == NULL);
	CHECK(ams_ini_profile(ini, false, "profile dev") != NULL);
	CHECK(ams_ini_profile(ini, true, "nope") == NULL);
	CHECK_STR_EQ(
	    "http://127.0.0.1:1",
	    ams_ini_get_sub(
		ams_ini_prop(ams_ini_section(ini, "services x"), "ec2"),
		"endpoint_url"));
	CHECK(ams_ini_get(NULL, "x") == NULL);
	CHECK(ams_ini_get_sub(NULL, "x") == NULL);
	CHECK(ams_ini_section(NULL, "x") == NULL);
	ams_ini_free(ini);
}

static void test_default_without_prefix(void)
{
	static const char text[] = "[default]\nregion = eu-west-1\n";
	struct ams_err err = AMS_ERR_INIT;
	struct ams_ini *ini;

	CHECK_RC(AMS_OK, ams_ini_parse(&ini, text, strlen(text), "c.ini", &err),
		 &err);
	CHECK_STR_EQ(
	    "eu-west-1",
	    ams_ini_get(ams_ini_profile(ini, true, "default"), "region"));
	CHECK_STR_EQ(
	    "eu-west-1",
	    ams_ini_get(ams_ini_profile(ini, false, "default"), "region"));
	ams_ini_free(ini);
}

static void test_load(void)
{
	char dir[] = "/tmp/t_ini.XXXXXX";
	char *path, *missing, *big;
	struct ams_err err = AMS_ERR_INIT;
	struct ams_ini *ini = NULL;
	FILE *f;
	size_t i;

	CHECK(mkdtemp(dir) != NULL);
	path = xasprintf("%s/config", dir);
	missing = xasprintf("%s/missing", dir);
	big = xasprintf("%s/big", dir);
	f = fopen(path, "w");
	fputs("[profile p]\nregion = ap-south-1\n", f);
	fclose(f);
	CHECK_RC(AMS_OK, ams_ini_load(&ini, path, &err), &err);
	CHECK_STR_EQ(path, ini->path);
	CHECK_STR_EQ("ap-south-1",
		     ams_ini_get(ams_ini_profile(ini, true, "p"), "region"));
	ams_ini_free(ini);

	ams_err_clear(&err);
	CHECK_RC(AMS_ENOTFOUND, ams_ini_load(&ini, missing, &err), &err);
	CHECK(ini == NULL);
	CHECK(strstr(err.msg, missing) != NULL);

	ams_err_clear(&err);
	CHECK_RC(AMS_EIO, ams_ini_load(&ini, dir, &err), &err);

	f = fopen(big, "w");
	fputs("[a]\n", f);
	for (i = 0; i <= AMS_INI_MAX_BYTES / 16; i++)
		fputs("# padding......\n", f);
	fclose(f);
	ams_err_clear(&err);
	CHECK_RC(AMS_ELIMIT, ams_ini_load(&ini, big, &err), &err);
	CHECK(ini == NULL);

	unlink(path);
	unlink(big);
	rmdir(dir);
	free(path);
	free(missing);
	free(big);
}

int main(void)
{
	test_parse_table();
	TEST(test_nul_byte, "a NUL byte is an error with its line");
	TEST(test_length_respected, "only len bytes are parsed");
	TEST(test_lookups, "section, property, sub-property, profile lookups");
	TEST(test_default_without_prefix, "[default] serves both files");
	TEST(test_load, "load: file, missing, directory, size limit");
	return test_done();
}
