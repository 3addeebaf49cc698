#!/usr/bin/env bash
# One Pulumi operation on one stack, as the CI workflows run it (docs/ci.md):
#
#   pulumi-stack.sh up        create the stack if it is new (with the environment's secrets provider),
#                             check that its state records that provider, then `pulumi up`
#   pulumi-stack.sh check     only the check (the preview job runs it before `pulumi preview`;
#                             a stack that does not exist yet exits 3, and the preview skips it)
#
# Environment: STACK (fully qualified), WORK_DIR, BACKEND_URL ("" = Pulumi Cloud), SECRETS_PROVIDER
# ("" = the backend's default), and for `up` POLICY_PACK and POLICY_CONFIG.
#
# Why the check: `--secrets-provider` applies only when a stack is created (Pulumi stores it in the
# new stack's state since 3.135.0, #17387); later runs have no Pulumi.<stack>.yaml carrying it, so they
# rely on PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true (3.134.0, #17236), which uses the secrets
# manager recorded in the state. A stack whose state records another provider (or none) would fall
# back to the backend default (a passphrase on S3) and fail half-way, so it is stopped here, before
# anything changes, with the command that fixes it.
set -euo pipefail

operation="${1:?usage: pulumi-stack.sh up|check}"
: "${STACK:?STACK is required}" "${WORK_DIR:?WORK_DIR is required}"
BACKEND_URL="${BACKEND_URL:-}"
SECRETS_PROVIDER="${SECRETS_PROVIDER:-}"
export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true

if [[ -n "$BACKEND_URL" ]]; then pulumi login "$BACKEND_URL"; else pulumi login; fi

# The secrets provider a stack's state records: the awskms:// URL of a cloud provider, else its type.
state_secrets_provider() {
  pulumi stack export --stack "$STACK" --cwd "$WORK_DIR" |
    jq -r '.deployment.secrets_providers // {} | if .type == "cloud" then .state.url elif .type then .type else "none" end'
}

case "$operation" in
  up)
    create=()
    if [[ -n "$SECRETS_PROVIDER" ]]; then create=(--secrets-provider "$SECRETS_PROVIDER"); fi
    # For an existing stack --secrets-provider is ignored; the state's provider is used (checked below).
    pulumi stack select "$STACK" --create "${create[@]}" --cwd "$WORK_DIR"
    ;;
  check)
    if ! selected="$(pulumi stack select "$STACK" --cwd "$WORK_DIR" 2>&1)"; then
      # backenderr.StackNotFoundError: "no stack named '<name>' found"; anything else is a real failure.
      if grep -q "no stack named" <<< "$selected"; then
        echo "::notice::$STACK does not exist yet: nothing to preview (the offline plan of pr.yml covers it)."
        exit 3
      fi
      echo "$selected" >&2
      exit 1
    fi
    ;;
  *)
    echo "unknown operation '$operation' (up or check)" >&2
    exit 64
    ;;
esac

if [[ -n "$SECRETS_PROVIDER" ]]; then
  recorded="$(state_secrets_provider)"
  if [[ "$recorded" != "$SECRETS_PROVIDER" ]]; then
    echo "::error::$STACK: its state records the secrets provider '$recorded', not '$SECRETS_PROVIDER'. CI relies on the" \
      "state's provider (PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER). Fix, with the deploy role:" \
      "pulumi stack change-secrets-provider --stack $STACK --cwd $WORK_DIR '$SECRETS_PROVIDER'"
    exit 1
  fi
  echo "$STACK: state secrets provider $recorded"
fi

if [[ "$operation" == "up" ]]; then
  : "${POLICY_PACK:?POLICY_PACK is required}" "${POLICY_CONFIG:?POLICY_CONFIG is required}"
  pulumi up --yes --diff --suppress-progress --color never --stack "$STACK" --cwd "$WORK_DIR" \
    --policy-pack "$POLICY_PACK" --policy-pack-config "$POLICY_CONFIG"
fi
