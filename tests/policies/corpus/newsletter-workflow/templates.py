"""Workflow templates of the marketing team."""

from render import quoted

NEWSLETTER = (
    """\
main:
  params: [issue]
  steps:
    - load:
        call: googleapis.storage.v1.objects.get
        args:
          bucket: {bucket}
          object: ${{issue.object}}
          alt: media
        result: html
    - announce:
        call: googleapis.pubsub.v1.projects.topics.publish
        args:
          topic: {topic}
          body:
            messages:
              - data: ${{base64.encode(text.encode(issue.object))}}
    - done:
        return: """
    + quoted("sent")
    + "\n"
)
