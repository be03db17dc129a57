import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { keccak256, stringToHex } from 'viem'
import {
  AUDITORS_TAG,
  AUDITORS_TAG_STRING,
  BPS,
  DISTRIBUTOR_TAG,
  DISTRIBUTOR_TAG_STRING,
  REPUTATION_HALF_BONUS_SCORE,
  SAMPLE_TAG,
  SAMPLE_TAG_STRING,
  WAD,
} from '../src/index.ts'

const solidity = readFileSync(
  join(import.meta.dirname, '..', '..', '..', 'contracts', 'src', 'libraries', 'ProtocolConstants.sol'),
  'utf8',
)

function solidityConstant(name: string): string {
  const match = new RegExp(`constant ${name} = ([^;]+);`).exec(solidity)
  assert.ok(match, `${name} not found in ProtocolConstants.sol`)
  return (match[1] as string).trim()
}

function solidityNumber(name: string): bigint {
  const expression = solidityConstant(name).replaceAll('_', '')
  const power = /^(\d+)e(\d+)$/.exec(expression)
  return power ? BigInt(power[1] as string) * 10n ** BigInt(power[2] as string) : BigInt(expression)
}

function solidityTagString(name: string): string {
  const match = /^keccak256\("([^"]+)"\)$/.exec(solidityConstant(name))
  assert.ok(match, `${name} is not keccak256("…")`)
  return match[1] as string
}

test('numeric constants equal ProtocolConstants.sol', () => {
  assert.equal(BPS, solidityNumber('BPS'))
  assert.equal(WAD, solidityNumber('WAD'))
  assert.equal(REPUTATION_HALF_BONUS_SCORE, solidityNumber('REPUTATION_HALF_BONUS_SCORE'))
  assert.equal(BPS, 10_000n)
  assert.equal(WAD, 1_000_000_000_000_000_000n)
})

test('domain tags hash the same strings as ProtocolConstants.sol', () => {
  assert.equal(SAMPLE_TAG_STRING, solidityTagString('SAMPLE_TAG'))
  assert.equal(AUDITORS_TAG_STRING, solidityTagString('AUDITORS_TAG'))
  assert.equal(DISTRIBUTOR_TAG_STRING, solidityTagString('DISTRIBUTOR_TAG'))
  assert.equal(SAMPLE_TAG, keccak256(stringToHex('coop.audit.sample.v1')))
  assert.equal(AUDITORS_TAG, keccak256(stringToHex('coop.audit.auditors.v1')))
  assert.equal(DISTRIBUTOR_TAG, keccak256(stringToHex('coop.distributor.select.v1')))
  assert.equal(new Set([SAMPLE_TAG, AUDITORS_TAG, DISTRIBUTOR_TAG]).size, 3)
})
