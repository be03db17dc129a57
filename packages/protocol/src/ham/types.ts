/** GUN's graph shapes, exactly as they travel on GUN's wire and sit in its in-memory graph. */

/** A node's id. GUN allows any non-empty string; Coop bounds its length (see @coop/graph's limits). */
export type Soul = string

/** A reference to another node. */
export type Link = { '#': Soul }

/** What a key can hold. Numbers must be finite (JSON cannot carry NaN or Infinity). `null` deletes. */
export type Value = null | string | boolean | number | Link

/** Per-node metadata: the node's soul and the HAM state (a number, GUN uses ms since epoch) of every key. */
export type NodeMeta = { '#': Soul; '>': Record<string, number> }

/** A node: its metadata under `_`, its keys beside it. */
export type GraphNode = { _: NodeMeta; [key: string]: Value | NodeMeta }

/** A set of nodes by soul: a whole graph, or a delta (what one put carries). */
export type Graph = Record<Soul, GraphNode>
