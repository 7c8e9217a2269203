"""Order events: one topic per event, one subscription per consumer, dead letters for each."""

import pulumi
import pulumi_gcp as gcp
import settings

s = settings.load()
labels = {"app": "order-events", "managed-by": "pulumi"}

publisher = gcp.serviceaccount.Account("publisher", account_id=f"{s.publisher}-events")
consumers = sorted({name for topic in s.topics for name in topic.subscribers})
consumer_accounts = {
    name: gcp.serviceaccount.Account(f"{name}-consumer", account_id=f"{name}-consumer") for name in consumers
}

dead_letter = gcp.pubsub.Topic("dead-letters", labels=labels)
subscription_paths = {}
for topic_settings in s.topics:
    topic = gcp.pubsub.Topic(topic_settings.name, labels=labels, message_retention_duration=s.retention)
    gcp.pubsub.TopicIAMMember(
        f"{topic_settings.name}-publisher",
        topic=topic.name,
        role="roles/pubsub.publisher",
        member=publisher.member,
    )
    for consumer in topic_settings.subscribers:
        sub = gcp.pubsub.Subscription(
            f"{topic_settings.name}-{consumer}",
            topic=topic.id,
            ack_deadline_seconds=30,
            enable_message_ordering=consumer == "shipping",
            retry_policy=gcp.pubsub.SubscriptionRetryPolicyArgs(
                minimum_backoff="10s", maximum_backoff="600s"
            ),
            dead_letter_policy=gcp.pubsub.SubscriptionDeadLetterPolicyArgs(
                dead_letter_topic=dead_letter.id, max_delivery_attempts=10
            ),
            expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
            labels={**labels, "consumer": consumer},
        )
        gcp.pubsub.SubscriptionIAMMember(
            f"{topic_settings.name}-{consumer}-subscriber",
            subscription=sub.name,
            role="roles/pubsub.subscriber",
            member=consumer_accounts[consumer].member,
        )
        subscription_paths[f"{topic_settings.name}/{consumer}"] = pulumi.Output.concat(
            "projects/", s.project, "/subscriptions/", sub.name
        )

pulumi.export("subscriptions", subscription_paths)
pulumi.export("publisher", publisher.email)
