# volume_digest DIR: one line `sha256=<hex> files=<n> bytes=<n>` for the regular files under DIR
# (lost+found left out, as restic's backup leaves it out): sha256 over the `sha256sum` lines of
# every file, paths relative to DIR, sorted bytewise. The mover prints it after a backup; the
# restore drill runs the same function on a restored volume, so equal digests mean equal data.
volume_digest() (
  cd "$1" || exit 1
  list=/tmp/volume-digest.$$
  find . -type f ! -path './lost+found/*' | sed 's|^\./||' | LC_ALL=C sort > "$list"
  files=$(wc -l < "$list")
  sum=$(tr '\n' '\0' < "$list" | xargs -0 -r sha256sum -- | sha256sum | cut -d ' ' -f 1)
  bytes=$(tr '\n' '\0' < "$list" | xargs -0 -r cat -- | wc -c)
  rm -f "$list"
  echo "sha256=$sum files=$((files)) bytes=$((bytes))"
)
