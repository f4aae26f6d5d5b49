// Polls the browser tests vote in, one per test so tests never share a tally.
const hour = 3600 * 1000;

/** The editor account the test server starts with (the password goes in on stdin). */
export const EDITOR = { email: 'e2e-editor@example.com', password: 'e2e-correct-horse-battery' };

function openPoll(now: Date, slug: string, question: string, extra: object = {}) {
  return {
    slug,
    question,
    options: [
      { id: 'yes', label: 'Yes' },
      { id: 'no', label: 'No' },
      { id: 'maybe', label: 'Maybe' },
    ],
    allow_comment: true,
    results_visibility: 'always',
    opens_at: new Date(now.getTime() - hour).toISOString(),
    closes_at: new Date(now.getTime() + 48 * hour).toISOString(),
    ...extra,
  };
}

export function fixturePolls(now: Date) {
  return [
    openPoll(now, 'e2e-with-js', 'Do you vote with JavaScript on?'),
    openPoll(now, 'e2e-without-js', 'Do you vote without JavaScript?'),
    openPoll(now, 'e2e-reload', 'Does a reload remember your vote?'),
    openPoll(now, 'e2e-twice', 'Can you vote twice?'),
    openPoll(now, 'e2e-keyboard', 'Can you vote with the keyboard alone?', { allow_comment: false }),
    openPoll(now, 'e2e-keyboard-multi', 'Which can you pick with the keyboard? Up to two.',
      { kind: 'multiple', max_choices: 2, allow_comment: false }),
    openPoll(now, 'e2e-markup', 'Is <script>window.__pwned = true</script> <b>safe</b>?'),
    openPoll(now, 'e2e-change', 'May you change your mind?', { allow_vote_change: true }),
    openPoll(now, 'e2e-embed', 'Would you vote inside a newsletter?'),
    openPoll(now, 'e2e-embed-nojs', 'Would you vote inside a newsletter without JavaScript?'),
    openPoll(now, 'e2e-embed-cross', 'Would you vote from another site?'),
    openPoll(now, 'e2e-summary', 'Will power stall the compute boom?'),
    openPoll(now, 'e2e-pages', 'Does this page fit your screen?'),
    openPoll(now, 'e2e-limit', 'Which two? Pick at most two.', { kind: 'multiple', max_choices: 2 }),
  ];
}
