// The kernel's mount table as /proc/<pid>/mountinfo writes it (proc(5)): what is mounted where, so
// that the kubelet's parts that mount (subPath, tmpfs emptyDirs) and the ones that remove pod
// directories (never across a mount) read it the same way.

/** One line of mountinfo: the mount point and the file system type. */
export interface MountInfoEntry {
  /** The mount point (field 5), with mountinfo's octal escapes (`\040` for a space...) undone. */
  path: string;
  /** The file system type, the first field after the ` - ` separator. */
  fsType: string;
}

/** The entries of a mountinfo text, in the kernel's order (a later mount may sit on an earlier one). */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (fields.length < 5 || dash < 5) continue;
    entries.push({ path: unescapeOctal(fields[4] as string), fsType: fields[dash + 1] ?? "" });
  }
  return entries;
}

/** Whether `path` is `dir` or lies below it (both absolute and normalised). */
export function isPathAtOrUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

function unescapeOctal(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
