from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from packages_app.models import Project, PublisherKind
from packages_app.services.errors import ServiceError
from packages_app.trusted_publishing import claims as claim_rules
from packages_app.trusted_publishing.service import add_publisher

EXAMPLES = """
examples:
  add_trusted_publisher acme-app --issuer github --claim repository=acme/app \\
      --claim repository_owner_id=1234567 --claim workflow=release.yml [--claim environment=pypi]
  add_trusted_publisher acme-app --issuer gitlab --claim project_path=acme/app \\
      --claim ci_config_ref_uri=.gitlab-ci.yml [--claim environment=release]
  add_trusted_publisher acme-app --kind gitlab --issuer https://gitlab.example.com --claim ...
  add_trusted_publisher acme-app --issuer https://issuer.example.com --claim sub=... --claim NAME=VALUE
  add_trusted_publisher new-project --pending --owner alice --issuer github --claim ...
"""


class Command(BaseCommand):
    help = (
        "Add a trusted publisher: a CI workload whose OIDC token, exchanged at /_/oidc/mint-token, "
        "uploads to PROJECT with a short-lived token. With --pending, PROJECT need not exist yet: "
        "the publisher's first upload creates it, with --owner as its Owner."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = EXAMPLES
        parser.formatter_class = __import__("argparse").RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("project")
        parser.add_argument(
            "--issuer",
            required=True,
            help="github, gitlab (gitlab.com), or the issuer's URL (listed in TRUSTED_PUBLISHING_ISSUERS).",
        )
        parser.add_argument(
            "--kind",
            choices=PublisherKind.values,
            help="The claim rules: github, gitlab (a self-managed GitLab's URL as --issuer) or generic "
            "(the default for an issuer URL).",
        )
        parser.add_argument(
            "--claim", action="append", default=[], metavar="NAME=VALUE", help="A claim the token must carry (repeat)."
        )
        parser.add_argument(
            "--pending", action="store_true", help="PROJECT does not exist yet: the first upload creates it."
        )
        parser.add_argument("--owner", help="With --pending: the user made Owner of the project it creates.")

    def handle(self, *args, **options):
        issuer = options["issuer"]
        kind = options["kind"]
        if issuer in (PublisherKind.GITHUB, PublisherKind.GITLAB):
            if kind not in (None, issuer):
                raise CommandError(f"--issuer {issuer} takes --kind {issuer}.")
            kind, issuer = issuer, claim_rules.default_issuer(issuer)
        elif "://" not in issuer:
            raise CommandError("--issuer is github, gitlab or an issuer URL such as https://gitlab.example.com.")
        kind = kind or PublisherKind.GENERIC
        claims = {}
        for item in options["claim"]:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"--claim {item!r} is not NAME=VALUE.")
            claims[name.strip()] = value
        project = None
        owner = None
        if options["pending"]:
            if not options["owner"]:
                raise CommandError("--pending needs --owner: the user made Owner of the project it creates.")
            owner = get_user_model().objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"No user named '{options['owner']}'.")
            if settings.PROJECT_CREATION == "staff" and not owner.is_staff:
                raise CommandError(
                    f"Only staff may create projects on this index, and '{owner.get_username()}' is not."
                )
        else:
            if options["owner"]:
                raise CommandError("--owner is for --pending publishers; an existing project keeps its Owners.")
            project = Project.objects.by_name(options["project"]).first()
            if project is None:
                raise CommandError(
                    f"No project named '{options['project']}' (use --pending to let the publisher create it)."
                )
        try:
            publisher = add_publisher(
                kind, issuer, claims, project=project, pending_name=options["project"], pending_owner=owner
            )
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        where = publisher.project_name + (" (pending)" if publisher.project is None else "")
        self.stdout.write(f"Added trusted publisher {publisher.description} ({publisher.issuer}) for {where}.")
