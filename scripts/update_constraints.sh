#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
#
# Re-pin constraints.txt: install offen-core with every extra into a throw-away environment at
# the newest versions the ranges in pyproject.toml allow, and write what was installed. Then
# regenerate NOTICE (python scripts/generate_notice.py) and run the CI before committing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
python3 -m venv "$workdir/env"
"$workdir/env/bin/pip" install --quiet --disable-pip-version-check -e '.[dev]'
# REUSE-IgnoreStart
{
    echo '# SPDX-FileCopyrightText: 2026 The offen_core authors'
    echo '# SPDX-License-Identifier: Apache-2.0'
    echo '# Every version the project installs, pinned; used by .ci/run and scripts/generate_notice.py.'
    echo '# Regenerate with scripts/update_constraints.sh after changing dependencies.'
    "$workdir/env/bin/pip" freeze --exclude-editable --disable-pip-version-check
} > constraints.txt
# REUSE-IgnoreEnd
echo "wrote constraints.txt"
