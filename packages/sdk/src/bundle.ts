import { stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { rawCid } from './cid.ts'
import { SdkError } from './errors.ts'

/** The module '@coop/sdk' resolves to inside a bundle: defineTask, types, CID helpers; no IO. */
export const TASK_SDK_ENTRY = fileURLToPath(new URL('./task.ts', import.meta.url))

// Bundled CommonJS code may `require` Node builtins; give the ESM bundle a real `require`.
const BANNER = "import { createRequire as __coopCreateRequire } from 'node:module';\nconst require = __coopCreateRequire(import.meta.url);"

const PURE_PACKAGES = /^@openzeppelin\/merkle-tree$/

export interface BundleOptions {
  /** Minify the bundle (smaller, harder to audit). Default false. */
  minify?: boolean
}

/**
 * Bundles a task module (TS or JS, importing '@coop/sdk') into one self-contained ESM file for
 * Node 24 (only `node:` builtins stay external). `cid` is the raw CIDv1 of the bytes. The output
 * depends only on the sources and their paths relative to the entry's directory, not on the cwd.
 */
export async function bundleTask(entry: string, options: BundleOptions = {}): Promise<{ code: Uint8Array; cid: string }> {
  const entryPath = resolve(entry)
  try {
    if (!(await stat(entryPath)).isFile()) throw new Error('not a file')
  } catch (cause) {
    throw new SdkError('BUNDLE_FAILED', 'task entry does not exist', { details: { entry: entryPath }, cause })
  }
  let output: Uint8Array
  try {
    const result = await build({
      entryPoints: [entryPath],
      absWorkingDir: dirname(entryPath),
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      minify: options.minify ?? false,
      legalComments: 'none',
      sourcemap: false,
      charset: 'utf8',
      logLevel: 'silent',
      banner: { js: BANNER },
      plugins: [
        {
          name: 'coop-sdk',
          setup(pluginBuild) {
            pluginBuild.onResolve({ filter: /^@coop\/sdk$/ }, () => ({ path: TASK_SDK_ENTRY }))
            // CommonJS packages esbuild cannot tree-shake on its own but that are known to be pure:
            // without this, @coop/protocol's Merkle dependency adds ~300 kB of unused code.
            pluginBuild.onResolve({ filter: PURE_PACKAGES }, async (args) => {
              if ((args.pluginData as { pure?: boolean } | undefined)?.pure) return undefined
              const resolved = await pluginBuild.resolve(args.path, {
                kind: args.kind,
                importer: args.importer,
                resolveDir: args.resolveDir,
                pluginData: { pure: true },
              })
              if (resolved.errors.length > 0) return { errors: resolved.errors }
              return { path: resolved.path, sideEffects: false }
            })
          },
        },
      ],
    })
    const file = result.outputFiles[0]
    if (!file) throw new Error('esbuild produced no output')
    output = file.contents
  } catch (cause) {
    const errors = (cause as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors
    throw new SdkError('BUNDLE_FAILED', 'esbuild failed to bundle the task', {
      details: {
        entry: entryPath,
        errors: errors?.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)),
      },
      cause,
    })
  }
  const code = new Uint8Array(output)
  return { code, cid: rawCid(code) }
}
