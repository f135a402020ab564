/*
 * The provenance attestation: an in-toto Statement v1 whose predicate is
 * SLSA Provenance v1, with the build's AMIs as subjects.
 *
 *   _type          https://in-toto.io/Statement/v1
 *   subject[]      name   arn:<partition>:ec2:<region>::image/<ami-id>
 *                         (AMI ARNs have an empty account field)
 *                  digest {"amiId": "<ami-id>"}
 *                  annotations {"region", "partition"}
 *   predicateType  https://slsa.dev/provenance/v1
 *   predicate      buildDefinition {buildType, externalParameters,
 *                  internalParameters, resolvedDependencies}, runDetails
 *                  {builder {id}, metadata {invocationId, startedOn,
 *                  finishedOn}}
 *
 * An AMI has no content digest. Its id is immutable (an AMI cannot be
 * changed, only deregistered, and ids are not reused), which the in-toto
 * DigestSet rules allow in place of a cryptographic digest: the custom
 * algorithm "amiId" holds the id exactly as EC2 prints it ("ami-" and 8
 * or 17 lowercase hex digits). Consumers match subjects on it.
 *
 * The document carries no secrets and no account ids (URLs lose their
 * credentials, ARNs have no account), so it is written with mode 0644.
 */
#ifndef AMS_INTOTO_H
#define AMS_INTOTO_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "manifest.h"
#include "provenance.h"

#define AMS_INTOTO_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define AMS_INTOTO_PREDICATE_TYPE "https://slsa.dev/provenance/v1"
/* The build type: a Packer build of AMIs, shared by amishare. */
#define AMS_INTOTO_BUILD_TYPE "https://amishare.dev/buildtypes/packer-ami/v1"
/* builder.id outside CI (or when the CI names no builder). */
#define AMS_INTOTO_LOCAL_BUILDER "https://amishare.dev/builders/local/v1"
/* The custom DigestSet algorithm for AMI subjects. */
#define AMS_INTOTO_AMI_DIGEST "amiId"

struct ams_intoto_opts {
	const struct ams_image_ref *images; /* the subjects; may be none */
	size_t nr_images;
	const char *build_type; /* NULL: AMS_INTOTO_BUILD_TYPE */
	time_t started_on;	/* 0: not recorded */
	time_t finished_on;	/* 0: not recorded */
	bool pretty;		/* indented output for people */
};

/*
 * Appends the statement, newline-terminated, to out. Strings that are
 * not valid UTF-8 (old commit messages) have each bad byte replaced by
 * U+FFFD so the document stays valid JSON. An image with an invalid
 * region or AMI id is AMS_EUSAGE naming it and its origin.
 */
enum ams_code ams_intoto_statement(struct ams_buf *out,
				   const struct ams_provenance *prov,
				   const struct ams_intoto_opts *opts,
				   struct ams_err *err);
/* Writes the statement to path atomically (fileio.h), mode 0644. */
enum ams_code ams_intoto_write(const char *path,
			       const struct ams_provenance *prov,
			       const struct ams_intoto_opts *opts,
			       struct ams_err *err);

/*
 * The ARN partition of a region: "aws-cn" for cn-*, "aws-us-gov" for
 * us-gov-*, "aws-iso" for us-iso-*, "aws-iso-b" for us-isob-*,
 * "aws-iso-e" for eu-isoe-*, "aws-iso-f" for us-isof-*, else "aws".
 */
const char *ams_intoto_partition(const char *region);
/* Region syntax: two letters, one or more words, a number: us-gov-west-1. */
bool ams_intoto_region_valid(const char *region);
/* "ami-" followed by 8 or 17 lowercase hex digits. */
bool ams_intoto_ami_id_valid(const char *ami_id);

#endif
