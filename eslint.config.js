// Lint: the recommended rules plus a ban on `any` in our own code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'data/**', '**/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // We match control characters on purpose: to refuse them in URIs and names.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Every query lives in store/, behind a function named for what it does (docs/architecture.md
    // "Layers"): Kysely's query builders and raw `sql` are refused anywhere else in
    // the server's sources. Tests may build queries to inspect what the store wrote.
    files: ['packages/server/src/**/*.ts'],
    ignores: ['packages/server/src/store/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name=/^(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto|selectNoFrom|with|withRecursive)$/]",
          message: 'Queries live in store/: call (or add) a store function named for what it does.',
        },
        {
          selector: "ImportDeclaration[source.value='kysely'] ImportSpecifier[imported.name='sql']",
          message: 'Raw SQL lives in store/.',
        },
      ],
    },
  },
);
