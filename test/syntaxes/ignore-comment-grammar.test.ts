/**
 * The suppression-comment injection grammar, tokenised with vscode-textmate on a minimal stand-in
 * for VS Code's Python grammar (which is not on npm): it produces the same comment and string
 * scopes the real one does. test/e2e checks the grammar on the real Python grammar too.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { IGrammar } from 'vscode-textmate';
import { loadPythonWithInjection, textsWithScope, tokenizeLine } from './grammarHarness';

const standInPythonGrammar = {
  scopeName: 'source.python',
  patterns: [
    {
      name: 'comment.line.number-sign.python',
      begin: '(\\#)',
      beginCaptures: { 1: { name: 'punctuation.definition.comment.python' } },
      end: '($)',
    },
    { name: 'string.quoted.single.python', begin: "'", end: "'" },
    { name: 'string.quoted.double.python', begin: '"', end: '"' },
  ],
};

describe('loss-lens ignore comment injection grammar', () => {
  let grammar: IGrammar;
  before(async () => {
    grammar = await loadPythonWithInjection(standInPythonGrammar);
  });

  it('highlights the directive and each rule id of ignore[...]', () => {
    const tokens = tokenizeLine(grammar, 'loss = criterion(probs, y)  # loss-lens: ignore[softmax-before-cross-entropy, target-extra-dim]');
    assert.deepEqual(textsWithScope(tokens, 'entity.name.tag.loss-lens'), ['loss-lens']);
    assert.deepEqual(textsWithScope(tokens, 'keyword.control.directive.ignore.loss-lens'), ['ignore']);
    assert.deepEqual(textsWithScope(tokens, 'constant.language.rule-id.loss-lens'), ['softmax-before-cross-entropy', 'target-extra-dim']);
    assert.deepEqual(textsWithScope(tokens, 'punctuation.definition.rule-list'), ['[', ']']);
    assert.deepEqual(textsWithScope(tokens, 'punctuation.separator.rule-list.loss-lens'), [',']);
    const ruleToken = tokens.find((token) => token.text === 'target-extra-dim');
    // Injected inside the comment, so themes colour it on top of the comment colour.
    assert.ok(ruleToken?.scopes.includes('comment.line.number-sign.python'), JSON.stringify(ruleToken));
  });

  it('highlights a bare ignore and ignore-file', () => {
    const bare = tokenizeLine(grammar, 'x = torch.softmax(z, dim=1)  # loss-lens: ignore');
    assert.deepEqual(textsWithScope(bare, 'keyword.control.directive.ignore.loss-lens'), ['ignore']);
    const file = tokenizeLine(grammar, '# loss-lens: ignore-file');
    assert.deepEqual(textsWithScope(file, 'keyword.control.directive.ignore-file.loss-lens'), ['ignore-file']);
    assert.deepEqual(textsWithScope(file, 'keyword.control.directive.ignore.loss-lens'), []);
  });

  it('accepts the spacing the analyser accepts', () => {
    const tokens = tokenizeLine(grammar, 'y = y.float()  #loss-lens :  ignore[float-class-index-target]');
    assert.deepEqual(textsWithScope(tokens, 'constant.language.rule-id.loss-lens'), ['float-class-index-target']);
  });

  it('marks what is not a rule id inside the brackets as invalid', () => {
    const tokens = tokenizeLine(grammar, 'x = 1  # loss-lens: ignore[Softmax_Before, ok-rule]');
    assert.deepEqual(textsWithScope(tokens, 'invalid.illegal.rule-id.loss-lens'), ['Softmax_Before']);
    assert.deepEqual(textsWithScope(tokens, 'constant.language.rule-id.loss-lens'), ['ok-rule']);
  });

  it('leaves other comments, strings and code alone', () => {
    for (const line of [
      '# a plain comment about loss-lens and ignore',
      'message = "# loss-lens: ignore[softmax-before-cross-entropy]"',
      "loss_lens = ignore['x']",
      '# noqa: E501',
    ]) {
      const tokens = tokenizeLine(grammar, line);
      const injected = tokens.filter((token) => token.scopes.some((scope) => scope.endsWith('.loss-lens')));
      assert.deepEqual(injected, [], line);
    }
  });
});
