// JSON logs (pino), one logger per node named after it.
import { pino, type Logger as PinoLogger, type LevelWithSilent, type DestinationStream } from 'pino'

export type Logger = PinoLogger

export function createLogger(options: { name: string; level?: LevelWithSilent; destination?: DestinationStream }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { name: options.name, pid: process.pid },
      serializers: { err: pino.stdSerializers.err },
      formatters: { level: (label) => ({ level: label }) },
      // bigint-safe: pino would throw on BigInt fields
      hooks: {
        logMethod(args, method) {
          if (args[0] && typeof args[0] === 'object') args[0] = toLoggable(args[0]) as never
          return method.apply(this, args)
        },
      },
    },
    options.destination,
  )
}

function toLoggable(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (depth > 4 || value === null || typeof value !== 'object' || value instanceof Error) return value
  if (Array.isArray(value)) return value.map((item) => toLoggable(item, depth + 1))
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) out[key] = toLoggable(item, depth + 1)
  return out
}
