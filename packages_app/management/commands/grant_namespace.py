from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from packages_app.services.errors import ServiceError
from packages_app.services.namespaces import grant_namespace, revoke_namespace


class Command(BaseCommand):
    help = (
        "Grant a PEP 752 namespace (the project PREFIX and every PREFIX-*) to a user or a team, "
        "or revoke it with --revoke (a grant is kept, revoked, never deleted)."
    )

    def add_arguments(self, parser):
        parser.add_argument("prefix", metavar="PREFIX", help="The namespace: any spelling of a project name.")
        holder = parser.add_mutually_exclusive_group()
        holder.add_argument("--user", help="The user who holds the namespace.")
        holder.add_argument("--team", help="The team (group) that holds the namespace.")
        parser.add_argument("--open", action="store_true", help="Anyone who may create projects may create them in it.")
        parser.add_argument("--revoke", action="store_true", help="Revoke the namespace instead of granting it.")

    def handle(self, *args, **options):
        prefix = options["prefix"]
        if options["revoke"]:
            if options["user"] or options["team"] or options["open"]:
                raise CommandError("--revoke takes only the namespace, not --user, --team or --open.")
            try:
                grant = revoke_namespace(prefix)
            except ServiceError as refusal:
                raise CommandError(str(refusal)) from refusal
            self.stdout.write(f"Revoked the namespace {grant.namespace} of {grant.holder_name}.")
            return
        member = self.member(options["user"], options["team"])
        try:
            grant = grant_namespace(prefix, member, open=options["open"])
        except ServiceError as refusal:
            raise CommandError(str(refusal)) from refusal
        kind = "open namespace" if grant.open else "namespace"
        self.stdout.write(f"Granted the {kind} {grant.namespace} to {grant.holder_name}.")

    def member(self, username: str | None, team: str | None):
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user named '{username}'.")
            return user
        if team:
            group = Group.objects.filter(name=team).first()
            if group is None:
                raise CommandError(f"No team named '{team}'.")
            return group
        raise CommandError("Name the holder with --user NAME or --team NAME (or give --revoke).")
