import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

export interface ProfileEntry { fn: string, where: string, selfMs: number, percent: number }
export interface ProfileSummary { files: number, totalMs: number, top: ProfileEntry[] }

/** Top self-time functions over every .cpuprofile in `dir` (idle time left out). */
export function summarizeProfile (dir: string, root: string, limit = 20): ProfileSummary | null {
  const files = existsSync(dir) ? readdirSync(dir).filter(f => f.endsWith('.cpuprofile')).map(f => join(dir, f)) : []
  if (files.length === 0) return null
  const self = new Map<string, { fn: string, where: string, us: number }>()
  let total = 0
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
    const byId = new Map(profile.nodes.map(n => [n.id, n]))
    profile.samples.forEach((id, i) => {
      const node = byId.get(id)
      const us = profile.timeDeltas[i] ?? 0
      if (!node || node.callFrame.functionName === '(idle)') return
      const { functionName, url, lineNumber } = node.callFrame
      const where = url ? `${url.startsWith('file://') ? relative(root, new URL(url).pathname) : url}:${lineNumber + 1}` : ''
      const key = `${functionName}|${where}`
      const entry = self.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0 }
      entry.us += us
      self.set(key, entry)
      total += us
    })
  }
  const top = [...self.values()].sort((a, b) => b.us - a.us).slice(0, limit).map(e => ({
    fn: e.fn, where: e.where, selfMs: Math.round(e.us / 1000), percent: Math.round(e.us / total * 1000) / 10
  }))
  return { files: files.length, totalMs: Math.round(total / 1000), top }
}
