// A Vite plugin that lets Annotorious run under the app's Content-Security-Policy, which has no
// 'unsafe-eval'. @annotorious/openseadragon draws its shapes with PixiJS 7, bundled inside its
// own file; PixiJS compiles its uniform upload functions with `new Function` and refuses to start
// ("Current environment does not allow unsafe-eval") when it cannot. PixiJS's answer is the
// @pixi/unsafe-eval package, which replaces two methods of ShaderSystem with static code — but it
// patches the `@pixi/core` module, and Annotorious's private copy is out of its reach. So the same
// two replacements are made here, in Annotorious's file at build time:
//   systemCheck()  → does nothing (the check that throws);
//   syncUniforms() → @pixi/unsafe-eval's static syncUniforms (no generated code).
// Each replacement must match exactly once, or the build fails: a new Annotorious version has to
// be looked at again (the versions are pinned in package.json).
// See docs/adr/0012-slide-and-ecg-viewers.md.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// The package exports only its self-installing index; its static upload function is beside it.
const staticSync = join(dirname(require.resolve('@pixi/unsafe-eval')), 'syncUniforms.mjs');

const kReplacements = [
  {
    what: 'ShaderSystem.systemCheck',
    from: /systemCheck\(\) \{\s*if \(!\w+\(\)\)\s*throw new Error\("Current environment does not allow unsafe-eval, please use @pixi\/unsafe-eval module to enable support\."\);\s*\}/g,
    to: 'systemCheck() {}',
  },
  {
    what: 'ShaderSystem.syncUniforms',
    from: /syncUniforms\((\w), (\w), (\w)\) \{\s*\(\1\.syncUniforms\[this\.shader\.program\.id\] \|\| this\.createSyncGroups\(\1\)\)\(\2\.uniformData, \1\.uniforms, this\.renderer, \3\);\s*\}/g,
    to: 'syncUniforms($1, $2) { __caliperStaticSyncUniforms($1, this.shader.program.uniformData, $2.uniformData, $1.uniforms, this.renderer); }',
  },
];

export function pixiWithoutEval() {
  return {
    name: 'caliper-pixi-without-eval',
    enforce: 'pre',
    transform(code, id) {
      if (!/@annotorious[\\/]openseadragon[\\/]dist[\\/]annotorious-openseadragon\.es\.js$/.test(id)) return null;
      let out = code;
      for (const r of kReplacements) {
        const hits = out.match(r.from)?.length ?? 0;
        if (hits !== 1) {
          this.error(`pixi-without-eval: expected ${r.what} once in ${id}, found it ${hits} times; ` +
                     'check the new Annotorious version (scripts/pixi-without-eval.mjs)');
        }
        out = out.replace(r.from, r.to);
      }
      return { code: `import { syncUniforms as __caliperStaticSyncUniforms } from ${JSON.stringify(staticSync)};\n${out}`, map: null };
    },
  };
}
