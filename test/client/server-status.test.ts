import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerStatusModel, presentStatus, type StatusBarState, type StatusPresentation } from '../../client/src/serverStatus';

function recordingModel(): { model: ServerStatusModel; shown: Array<{ state: StatusBarState; presentation: StatusPresentation }> } {
  const shown: Array<{ state: StatusBarState; presentation: StatusPresentation }> = [];
  const model = new ServerStatusModel((presentation, state) => shown.push({ state, presentation }));
  return { model, shown };
}

describe('ServerStatusModel', () => {
  it('goes starting → ready → analysing → ready with the server total', () => {
    const { model, shown } = recordingModel();
    model.setPhase('starting');
    model.setPhase('running');
    model.serverReported({ state: 'analysing', uri: 'file:///a.py', totalFindings: 0 });
    model.serverReported({ state: 'ready', uri: 'file:///a.py', findings: 2, totalFindings: 2 });
    assert.deepEqual(shown.map((entry) => entry.state), ['starting', 'ready', 'analysing', 'ready']);
    assert.equal(shown.at(-1)?.presentation.text, '$(warning) Loss Lens: 2');
    assert.match(shown.at(-1)?.presentation.tooltip ?? '', /2 findings in open files/);
  });

  it('stays analysing until every document that started has reported', () => {
    const { model } = recordingModel();
    model.setPhase('running');
    model.serverReported({ state: 'analysing', uri: 'file:///a.py', totalFindings: 0 });
    model.serverReported({ state: 'analysing', uri: 'file:///b.ipynb', totalFindings: 0 });
    model.serverReported({ state: 'ready', uri: 'file:///a.py', findings: 1, totalFindings: 1 });
    assert.equal(model.state, 'analysing');
    model.serverReported({ state: 'ready', uri: 'file:///b.ipynb', findings: 3, totalFindings: 4 });
    assert.equal(model.state, 'ready');
    assert.equal(model.findingCount, 4);
  });

  it('shows a failed analysis in the tooltip until the next good one', () => {
    const { model, shown } = recordingModel();
    model.setPhase('running');
    model.serverReported({ state: 'analysing', uri: 'file:///a.py', totalFindings: 0 });
    model.serverReported({ state: 'error', uri: 'file:///a.py', totalFindings: 0, message: 'parser crashed' });
    assert.equal(model.state, 'ready');
    assert.match(shown.at(-1)?.presentation.tooltip ?? '', /The last analysis failed: parser crashed/);
    model.serverReported({ state: 'ready', uri: 'file:///a.py', totalFindings: 0 });
    assert.doesNotMatch(shown.at(-1)?.presentation.tooltip ?? '', /failed/);
  });

  it('forgets findings and pending work when the server stops', () => {
    const { model, shown } = recordingModel();
    model.setPhase('running');
    model.serverReported({ state: 'analysing', uri: 'file:///a.py', totalFindings: 5 });
    model.setPhase('stopped');
    assert.equal(model.state, 'stopped');
    assert.equal(model.findingCount, 0);
    assert.equal(shown.at(-1)?.presentation.alarming, true);
    model.setPhase('running');
    assert.equal(model.state, 'ready');
  });
});

describe('presentStatus', () => {
  it('says "1 finding" and "0 findings" properly and only alarms when stopped', () => {
    assert.match(presentStatus('ready', 1).tooltip, /ready, 1 finding in open files/);
    assert.equal(presentStatus('ready', 0).text, '$(check) Loss Lens: 0');
    assert.equal(presentStatus('starting', 0).alarming, false);
    assert.equal(presentStatus('stopped', 0).alarming, true);
  });
});
