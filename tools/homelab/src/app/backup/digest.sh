# volume_digest DIR: one line `sha256=<hex> files=<n> bytes=<n>` for the regular files under DIR
# (lost+found left out, as restic's backup leaves it out): sha256 over the `sha256sum` lines of
# every file, paths relative to DIR, sorted bytewise. The mover prints it after a backup; the
# restore drill runs the same function on a restored volume, so equal digests mean equal data.
volume_digest() (
  cd "$1" || exit 1
  # The sorted list is held in a variable: no file is written, in the volume or beside it.
  list=$(find . -type f ! -path './lost+found/*' | sed 's|^\./||' | LC_ALL=C sort)
  if [ -z "$list" ]; then
    echo "sha256=$(printf '' | sha256sum | cut -d ' ' -f 1) files=0 bytes=0"
    exit 0
  fi
  files=$(printf '%s\n' "$list" | wc -l)
  sum=$(printf '%s\n' "$list" | tr '\n' '\0' | xargs -0 -r sha256sum -- | sha256sum | cut -d ' ' -f 1)
  bytes=$(printf '%s\n' "$list" | tr '\n' '\0' | xargs -0 -r cat -- | wc -c)
  echo "sha256=$sum files=$((files)) bytes=$((bytes))"
)
