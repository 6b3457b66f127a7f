/** An in-memory file system for loaders that take a reader: path to text, ENOENT for anything else. */
export function memoryReader(files: Readonly<Record<string, string>>): (path: string) => Promise<string> {
  return (path) => {
    const content = files[path];
    if (content !== undefined) return Promise.resolve(content);
    return Promise.reject(Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' }));
  };
}
