import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The import graph of src/, read from the sources with the TypeScript parser: every import and
// export-from statement (type-only ones too), every dynamic `import()` and every `typeof import()`.
const SRC = fileURLToPath(new URL('../src/', import.meta.url));

interface Edge {
  readonly to: string;
  /** A runtime edge the module loads when it loads (not type-only, not a dynamic import). */
  readonly eager: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

function resolveSpecifier(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier);
  // `./x.js` names `./x.ts`; any other file (package.json) is a leaf of the graph.
  const candidate = [base.replace(/\.js$/, '.ts'), base, join(base, 'index.ts')].find((p) => existsSync(p) && statSync(p).isFile());
  if (!candidate) throw new Error(`${relative(SRC, from)}: cannot resolve ${specifier}`);
  return candidate;
}

function edgesOf(file: string): Edge[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (specifier: ts.Expression | ts.TypeNode | undefined, eager: boolean) => {
    const text = specifier && ts.isLiteralTypeNode(specifier) ? specifier.literal : specifier;
    if (text && ts.isStringLiteral(text) && text.text.startsWith('.')) edges.push({ to: resolveSpecifier(file, text.text), eager });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, !typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      const typeOnly = node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier, !typeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node)) {
      add(node.argument, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

const graph = new Map(sourceFiles(SRC).map((file) => [file, edgesOf(file)]));
const name = (file: string) => relative(SRC, file).replaceAll('\\', '/');

/** Every import circle, each as the path of files around it (depth-first search, three colours). */
function importCircles(edges: ReadonlyMap<string, readonly Edge[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const circles: string[][] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const { to } of edges.get(file) ?? []) {
      if (state.get(to) === 'open') circles.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return circles;
}

function eagerlyReached(from: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { to, eager } of graph.get(file) ?? []) if (eager) visit(to);
  };
  visit(from);
  return seen;
}

describe('the import graph of src/', () => {
  it('is read from every source file, dynamic and type-only imports included', () => {
    expect(graph.size).toBeGreaterThan(60);
    const all = [...graph].flatMap(([from, edges]) => edges.map((e) => `${name(from)} -> ${name(e.to)}${e.eager ? '' : ' (lazy or type)'}`));
    expect(all).toContain('lazy.ts -> heavy.ts (lazy or type)'); // `import('./heavy.js')`
    expect(all).toContain('sts/client.ts -> sts/engine.ts (lazy or type)');
    expect(all).toContain('providers/profile/ini.ts -> providers/sts/index.ts');
  });

  it('has no import circle', () => {
    expect(importCircles(graph).map((circle) => circle.map(name).join(' -> '))).toEqual([]);
  });

  it('finds a circle when there is one (the search itself)', () => {
    const e = (to: string, eager = true): Edge => ({ to, eager });
    const circles = importCircles(new Map([['a', [e('b')]], ['b', [e('c', false)]], ['c', [e('a')]], ['d', [e('a')]]]));
    expect(circles).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('keeps the lazy half out of the package root: no eager import path reaches it', () => {
    const reached = [...eagerlyReached(join(SRC, 'index.ts'))].map(name);
    const lazy = ['heavy.ts', 'sts/engine.ts', 'providers/metadata/instance.ts', 'providers/metadata/container.ts', 'providers/profile/ini.ts', 'providers/process/process.ts', 'providers/sso/sso.ts'];
    expect(reached).toContain('providers/sts/index.ts'); // control: the search does follow the root's imports
    expect(reached.filter((file) => lazy.includes(file))).toEqual([]);
  });
});
