#!/usr/bin/env bash
# The AWS CLI contender of the benchmark: the loop a platform team writes
# to share an AMI with many accounts and copy its tags into them, one
# `aws` process per call.
#
# Reads BENCH_AMIS ("region:ami-id,..."), BENCH_ACCOUNTS_FILE and
# BENCH_ROLE_NAME, plus the usual AWS_* variables (the build account's
# keys, AWS_ENDPOINT_URL). Per Region: read the image's tags, add every
# account to the launch permission with one modify-image-attribute. Per
# account: aws sts assume-role, export the credentials, aws ec2
# create-tags in every Region. Exits 1 when any call failed.
set -u
declare -A ami tags
regions=()
IFS=, read -r -a pairs <<<"$BENCH_AMIS"
for p in "${pairs[@]}"; do
	regions+=("${p%%:*}")
	ami[${p%%:*}]=${p#*:}
done
mapfile -t accounts < <(grep -v '^[[:space:]]*$' "$BENCH_ACCOUNTS_FILE")
perm='{"Add":['
sep=
for a in "${accounts[@]}"; do
	perm+="$sep{\"UserId\":\"$a\"}"
	sep=,
done
perm+=']}'
failed=0
for r in "${regions[@]}"; do
	tags[$r]=$(aws ec2 describe-images --region "$r" --image-ids "${ami[$r]}" \
		--query 'Images[0].Tags' --output json) || failed=1
	aws ec2 modify-image-attribute --region "$r" --image-id "${ami[$r]}" \
		--launch-permission "$perm" || failed=1
done
for a in "${accounts[@]}"; do
	creds=$(aws sts assume-role \
		--role-arn "arn:aws:iam::$a:role/${BENCH_ROLE_NAME:-AmishareTagger}" \
		--role-session-name ami-tagger \
		--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' \
		--output text) || { failed=1; continue; }
	read -r key secret token <<<"$creds"
	for r in "${regions[@]}"; do
		AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret \
		AWS_SESSION_TOKEN=$token \
			aws ec2 create-tags --region "$r" --resources "${ami[$r]}" \
			--tags "${tags[$r]}" || failed=1
	done
done
exit $failed
