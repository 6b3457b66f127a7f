/**
 * A Kubernetes secret volume as the kubelet's atomic writer lays it out and updates it: the keys'
 * files in a timestamped directory, `..data` linking to that directory, and one link per key
 * through `..data`. An update writes a new timestamped directory, points `..data_tmp` at it,
 * renames `..data_tmp` over `..data` (the one atomic step) and removes the old directory.
 */
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let generation = 0;

function timestamped(): string {
  generation++;
  return `..2026_01_01_00_00_00.${String(generation).padStart(9, '0')}`;
}

async function writeGeneration(volume: string, files: Readonly<Record<string, string>>): Promise<string> {
  const dir = timestamped();
  await mkdir(join(volume, dir), { recursive: true });
  for (const [key, text] of Object.entries(files)) await writeFile(join(volume, dir, key), text);
  return dir;
}

/** A new volume at `volume` holding `files` (key name to content). */
export async function createSecretVolume(volume: string, files: Readonly<Record<string, string>>): Promise<void> {
  const dir = await writeGeneration(volume, files);
  await symlink(dir, join(volume, '..data'));
  for (const key of Object.keys(files)) await symlink(join('..data', key), join(volume, key));
}

/** The kubelet's update of the volume to `files`, with the same keys. */
export async function updateSecretVolume(volume: string, files: Readonly<Record<string, string>>): Promise<void> {
  const old = await readlink(join(volume, '..data'));
  const dir = await writeGeneration(volume, files);
  await symlink(dir, join(volume, '..data_tmp'));
  await rename(join(volume, '..data_tmp'), join(volume, '..data'));
  await rm(join(volume, old), { recursive: true, force: true });
}
