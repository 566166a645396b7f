# shellcheck shell=bash
# S3 value checks shared by the node scripts, the bash mirror of config/values.ts (bucketProblem,
# prefixProblem, regionProblem): the config is refused by the same rule when it is parsed, so no
# script refuses a value half way through an update.
# components/node-scripts.ts puts this file in place of each script's include line for it.

# s3_bucket NAME: succeeds for an S3 general purpose bucket name (3-63 lowercase letters, digits,
# '.', '-', a letter or digit at each end, no "..", not an IP address, none of the reserved
# prefixes and suffixes). Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
s3_bucket() {
  local re='^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' ip='^[0-9]{1,3}(\.[0-9]{1,3}){3}$'
  [[ $1 =~ $re && $1 != *..* && ! $1 =~ $ip ]] || return 1
  case $1 in
    xn--* | sthree-* | amzn-s3-demo-* | *-s3alias | *--ol-s3 | *.mrap | *--x-s3 | *--table-s3) return 1 ;;
  esac
}

# s3_prefix PREFIX: succeeds for a key prefix: empty, or parts of letters, digits, '.', '_', '-'
# each ending in "/", none "." or "..", at most 256 characters.
s3_prefix() {
  local re='^([A-Za-z0-9._-]+/)*$'
  [[ ${#1} -le 256 && $1 =~ $re && /$1 != */./* && /$1 != */../* ]]
}

# aws_region NAME: succeeds for an AWS region name such as eu-west-1 or us-gov-west-1.
aws_region() {
  local re='^[a-z]{2}(-[a-z]{1,16}){1,3}-[0-9]{1,2}$'
  [[ $1 =~ $re ]]
}
