// The onboarding pages behind an Account Link (docs/contract.md Part B §8.3). The flow's rules are
// in web/onboarding.ts; here: the link visit, one page per step, the forms.
import { htmlPage, seeOther, type PageRequest, type PageResult, type PageRoute } from '../page-route.ts';
import { currentSession, ensureSession, formSession } from '../page-session.ts';
import { onboardingPage } from '../pages/onboarding.ts';
import { FormError } from '../accounts.ts';
import { canOpen, currentStep, fillTestData, finish, FlowEnded, loadFlow, openLink, requirementsOf, saveBank, saveBusiness, saveLogin, STEPS, type Flow, type Step } from '../onboarding.ts';
import type { Session } from '../session.ts';

/** The flow of this page's onboarding session, or the redirect to refresh_url when it has ended. */
async function flowOf(req: PageRequest, session: Session | null): Promise<Flow | PageResult> {
  const f = await loadFlow(req.ctx, req.path.id ?? '', session?.hash ?? null);
  return 'refresh' in f ? { kind: 'redirect', location: f.refresh, status: 303 } : f;
}

function render(req: PageRequest, f: Flow, session: Session, step: Step, error?: FormError, status = 200): PageResult {
  const values = error ? Object.fromEntries(Object.entries(req.body).filter(([k, v]) => typeof v === 'string' && k !== 'password' && k !== '_csrf')) as Record<string, string> : undefined;
  return htmlPage(
    onboardingPage({ flow: f, step, current: currentStep(f), due: requirementsOf(f), csrf: session.csrf, error: error ? { message: error.message, field: error.field } : null, ...(values ? { values } : {}) }),
    status,
  );
}

type Save = (req: PageRequest, f: Flow) => Promise<string | void>;

/** A step's form: CSRF, the flow, the save; a FormError shows the step again with the message. */
function stepPost(path: string, step: Step, save: Save): PageRoute {
  return {
    method: 'POST',
    path: `/setup/onboarding/:id/${path}`,
    handler: async (req) => {
      const session = await formSession(req);
      const f = await flowOf(req, session);
      if (!('row' in f)) return f;
      try {
        const next = await save(req, f);
        return seeOther(next ?? `/setup/onboarding/${f.row.id}`);
      } catch (err) {
        if (err instanceof FlowEnded) return seeOther(err.refreshUrl);
        if (!(err instanceof FormError)) throw err;
        return render(req, f, session, step, err, 400);
      }
    },
  };
}

const who = (req: PageRequest) => ({ ip: req.ip, userAgent: req.userAgent });

export const onboardingRoutes: PageRoute[] = [
  {
    method: 'GET',
    path: '/setup/s/:account/:token',
    handler: async (req) => {
      const session = await ensureSession(req);
      const opened = await openLink(req.ctx, req.path.account ?? '', req.path.token ?? '', session.hash);
      return seeOther(opened.kind === 'refresh' ? opened.url : `/setup/onboarding/${opened.id}`);
    },
  },
  {
    method: 'GET',
    path: '/setup/onboarding/:id',
    handler: async (req) => {
      const session = await currentSession(req);
      const f = await flowOf(req, session);
      if (!('row' in f) || !session) return 'row' in f ? { kind: 'redirect', location: f.row.refresh_url, status: 303 } : f;
      // A step already done may be opened again to change it; later steps wait their turn.
      const asked = STEPS.find((s) => s === req.query.step);
      const step = asked && canOpen(f, asked) ? asked : currentStep(f);
      return render(req, f, session, step);
    },
  },
  stepPost('login', 'login', (req, f) => saveLogin(req.ctx, f, req.body, req.requestId)),
  stepPost('business', 'business', (req, f) => saveBusiness(req.ctx, f, req.body, req.requestId)),
  stepPost('bank', 'bank', (req, f) => saveBank(req.ctx, f, req.body, req.requestId)),
  stepPost('finish', 'review', (req, f) => finish(req.ctx, f, req.body, who(req), req.requestId)),
  stepPost('test-data', 'review', (req, f) => fillTestData(req.ctx, f, who(req), req.requestId)),
];
